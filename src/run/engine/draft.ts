// The working copy one event changes. Steps are replaced, never changed, and the step table is
// written in place by step-table.ts, which keeps the given state reading as it was; every write
// goes through `put`, which keeps the run's index (run-index.ts) current.
// Handlers record facts here (a step finished, a step is ready); settle.ts derives the rest.
import type { StepDef } from "../../dag/types";
import type { FinalStepStatus } from "../../status";
import { statusOf } from "./phase";
import { RunIndex } from "./run-index";
import { StepTable } from "./step-table";
import { timerKey } from "./timers";
import type { Effect, MachineContext, Phase, RunState, StepPatch, StepState } from "./types";

/**
 * The index of each state the engine returned, so that the next event on that state starts from
 * it. A state the engine did not return (loaded from storage, built by hand) gets a new index.
 */
const indexes = new WeakMap<RunState, RunIndex>();

export class Draft {
  readonly effects: Effect[] = [];
  /** Steps that reached a final status during this event, in order; settle takes it from here. */
  readonly finished: string[] = [];
  /** Steps made ready where dispatching at once is not this module's to do; settle dispatches them. */
  readonly ready: string[] = [];
  readonly state: RunState;
  readonly index: RunIndex;
  private readonly table: StepTable;

  constructor(
    /** Replaced when a fan-out step adds instances. */
    public ctx: MachineContext,
    private readonly base: RunState,
    readonly now: number,
  ) {
    // The index is taken over (and changed in place): if this event throws, it is rebuilt.
    this.index = indexes.get(base) ?? RunIndex.build(ctx, base);
    indexes.delete(base);
    // The step table is changed in place, not copied (step-table.ts keeps the given state as it was).
    this.table = new StepTable(base.steps);
    this.state = { ...base, steps: this.table.record, outputs: base.outputs };
  }

  /**
   * The state after the event, remembered with its index, and the steps the event wrote; the
   * given state reads as it was.
   */
  done(): { state: RunState; changed: string[] } {
    if (this.table.record !== this.state.steps) throw new Error("the step table was replaced during an event");
    const changed = this.table.written();
    if (this.base.steps === this.table.record) this.base.steps = this.table.commit(this.state);
    indexes.set(this.state, this.index);
    return { state: this.state, changed };
  }

  /** The event failed: the given state is left as it was. */
  abandon(): void {
    this.table.rollback();
  }

  step(name: string): StepState {
    const s = this.state.steps[name];
    if (!s) throw new Error(`unknown step ${name}`);
    return s;
  }

  def(name: string): StepDef {
    const d = this.ctx.stepsByName.get(name);
    if (!d) throw new Error(`unknown step ${name}`);
    return d;
  }

  /** Changes a step's fields; its phase stays. */
  update(name: string, patch: StepPatch): StepState {
    return this.put({ ...this.step(name), ...patch });
  }

  /** Moves a step to another phase (the one way a phase, and so a status, changes). */
  move(name: string, phase: Phase, patch?: StepPatch): StepState {
    return this.put({ ...this.step(name), ...patch, phase });
  }

  /**
   * Writes a step's whole state, a new object each time (steps are replaced, never changed), its
   * status derived from its phase here: nowhere else sets it.
   */
  put(s: Omit<StepState, "status"> & { status?: unknown }): StepState {
    const step = s as { status: StepState["status"] } & StepState;
    step.status = statusOf(s.phase);
    this.table.set(step);
    this.index.set(this.ctx, step);
    return step;
  }

  /** A new context (a fan-out step added instances): their counts are taken again under it. */
  setContext(ctx: MachineContext, changed: string[]): void {
    this.ctx = ctx;
    for (const name of changed) this.index.set(ctx, this.step(name));
  }

  log(message: string): void {
    this.effects.push({ type: "log", message });
  }

  setTimer(key: string, at: number): void {
    this.effects.push({ type: "setTimer", key, at });
  }

  clearTimer(key: string): void {
    this.effects.push({ type: "clearTimer", key });
  }

  /** The lease and timeout timers of a step's attempt. */
  clearStepTimers(name: string): void {
    this.clearTimer(timerKey.lease(name));
    this.clearTimer(timerKey.timeout(name));
  }

  /** A step reached a final status: the fact. What follows from it is settle's. */
  finish(name: string, status: FinalStepStatus, error?: string): void {
    const s = this.step(name);
    this.clearStepTimers(name);
    if (s.phase.kind === "retryWait") this.clearTimer(timerKey.retry(name));
    if (this.def(name).repeatPolicy) this.clearTimer(timerKey.repeat(name));
    this.move(name, { kind: "done", status }, { error, finishedAt: this.now });
    this.finished.push(name);
    this.log(`step ${name} ${status}${error ? `: ${error}` : ""}`);
  }
}
