// Counts derived from the run's steps, kept up to date step by step so that an event costs what
// it changes: the engine asks "how many steps occupy a slot", "is any step held back", "is the
// run done", "how many leases of this selector are out" without walking every step. PURE (a
// cache of the state; rebuilt when unsure).
import { selectorOf } from "../../shared/selector";
import { HeldSteps } from "./held-steps";
import type { MachineContext, RunState, StepState } from "./types";

/** What one step adds to the counts. */
interface Contribution {
  /** Waiting for a runner, running on one, or running a sub-DAG: what maxActiveSteps counts. */
  occupies: boolean;
  /** The parallel group the step belongs to (an instance of a parallel step), if any. */
  group?: string;
  pending: boolean;
  /** Dispatched or leased, and not confirmed by its runner yet: what the lease bound counts. */
  out: boolean;
  /** The step's effective workerSelector as a key: leases out are counted per selector. */
  selector: string;
  waiting: boolean;
  /** Under way: the run is not shown as `waiting` while such a step exists. */
  busy: boolean;
  /** Not finished, and not a handler (the handlers run once the other steps are done). */
  open: boolean;
  terminal: boolean;
}

/** Waiting for a runner, running on one, or running a sub-DAG: what maxActiveSteps counts. */
export function occupies(s: StepState): boolean {
  const k = s.phase.kind;
  return k === "queued" || k === "leased" || k === "running" || k === "calling";
}

function contributionOf(ctx: MachineContext, s: StepState): Contribution {
  const k = s.phase.kind;
  const terminal = k === "done";
  return {
    occupies: occupies(s),
    group: ctx.stepsByName.get(s.name)?.parallelGroup?.name,
    pending: k === "held",
    out: k === "queued" || k === "leased",
    // A call step takes no lease: its key is none a lease is ever counted under.
    selector: ctx.stepsByName.get(s.name)?.call ? "(call)" : selectorKey(ctx, s.name),
    waiting: k === "awaitingApproval",
    // A fan-out step is running only through its instances, which count for themselves.
    busy: k !== "idle" && k !== "awaitingApproval" && k !== "fannedOut" && !terminal,
    open: !terminal && !ctx.handlerNames.has(s.name),
    terminal,
  };
}

/** Selector keys per context, each computed once (fan-out instances get theirs in their context). */
const selectorKeys = new WeakMap<MachineContext, Map<string, string>>();

/** The step's effective workerSelector as a stable key (labels sorted). */
export function selectorKey(ctx: MachineContext, name: string): string {
  let keys = selectorKeys.get(ctx);
  if (!keys) {
    keys = new Map();
    selectorKeys.set(ctx, keys);
  }
  let key = keys.get(name);
  if (key === undefined) {
    const sel = selectorOf(ctx.dag, ctx.stepsByName.get(name) ?? {});
    key = JSON.stringify(Object.entries(sel).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    keys.set(name, key);
  }
  return key;
}

const bump = (m: Map<string, number>, key: string | undefined, by: number) => {
  if (key !== undefined) m.set(key, (m.get(key) ?? 0) + by);
};

export class RunIndex {
  occupying = 0;
  waiting = 0;
  busy = 0;
  open = 0;
  /**
   * Steps held back by maxActiveSteps, a parallel group's maxConcurrent or the lease bound, in
   * the DAG's order.
   */
  readonly pending = new HeldSteps();
  private readonly byStep = new Map<string, Contribution>();
  private readonly occupyingIn = new Map<string, number>();
  private readonly openIn = new Map<string, number>();
  private readonly outBy = new Map<string, number>();
  private readonly heldBy = new Map<string, number>();

  /** The one whole-run walk: when a run is loaded, or its index was lost. */
  static build(ctx: MachineContext, state: RunState): RunIndex {
    const index = new RunIndex();
    for (const s of Object.values(state.steps)) index.set(ctx, s);
    return index;
  }

  /** Records a step's new state (replacing what its earlier state counted). */
  set(ctx: MachineContext, s: StepState): void {
    const before = this.byStep.get(s.name);
    if (before) this.count(s.name, before, -1);
    const now = contributionOf(ctx, s);
    this.byStep.set(s.name, now);
    this.count(s.name, now, 1, ctx.indexOf.get(s.name));
  }

  private count(name: string, c: Contribution, sign: 1 | -1, position = 0): void {
    if (c.occupies) {
      this.occupying += sign;
      bump(this.occupyingIn, c.group, sign);
    }
    if (!c.terminal) bump(this.openIn, c.group, sign);
    if (c.waiting) this.waiting += sign;
    if (c.busy) this.busy += sign;
    if (c.open) this.open += sign;
    if (c.out) bump(this.outBy, c.selector, sign);
    if (c.pending) {
      bump(this.heldBy, c.selector, sign);
      if (sign > 0) this.pending.add(name, position);
      else this.pending.delete(name);
    }
  }

  /** Steps of this selector dispatched or leased and not confirmed yet. */
  outFor(selector: string): number {
    return this.outBy.get(selector) ?? 0;
  }

  /** The selectors of the held steps, with how many steps each holds. */
  heldSelectors(): IterableIterator<[string, number]> {
    return this.heldBy.entries();
  }

  /** Steps of the parallel group that occupy a slot. */
  occupyingInGroup(group: string): number {
    return this.occupyingIn.get(group) ?? 0;
  }

  /** Steps of the parallel group that have not finished. */
  openInGroup(group: string): number {
    return this.openIn.get(group) ?? 0;
  }
}
