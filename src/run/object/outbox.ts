// The outbox: effects that must reach another object (the dispatcher, a sub-DAG run, D1 and
// admission). Each is stored with a retry timer in the same transaction as the state that
// caused it (`record`), delivered after the transaction (`deliver`), and its timer removed once
// it is done; a delivery that fails moves its timer, and the alarm tries again.

import { db, updateRunSummary } from "../../db/queries";
import type { DispatchTask } from "../../dispatch/task-queue";
import type { Env } from "../../env";
import { type Outcome, unwrap } from "../../errors";
import { mailAfterFinish } from "../../mail/after-finish";
import { poolOf, type Selector } from "../../shared/selector";
import { isTerminalRun } from "../../status";
import { admission, dispatcherFor, runStub } from "../../stubs";
import { timingMark } from "../../timing";
import type { Effect, MachineContext, Phase, RunEvent, RunState } from "../engine";
import { retainAfterFinish } from "../retention";
import { stepStats } from "../step-stats";
import { startSubRun } from "../sub-runs";
import type { SubRunReport } from "./rpc";
import type { RunStore, StoredInit } from "./run-store";
import { outboxTimer } from "./timer-keys";
import type { TimerTable } from "./timers";

/** Retry delay for effects that failed (dispatcher or D1 unreachable). */
const EFFECT_RETRY_MS = 1_000;
/**
 * A dispatched step is handed to the dispatcher after its state is stored; if this object is
 * interrupted in between (its caller went away, the server stopped), this timer, stored with
 * the state, hands it over later. Removed once the dispatcher has the task. As late as a new
 * lease's confirmation timer, so that it seldom moves the alarm.
 */
const DISPATCH_SAFETY_MS = 5_000;
/**
 * A step still queued this long after its task was handed over is offered to the dispatcher
 * again, and so on while it waits. The dispatcher keeps one task per dispatch (a second offer of
 * a task it holds changes nothing), but a task taken off its queue by a runner's request whose
 * claim never reached this run (the dispatcher or the server stopped in between) would be lost,
 * and the step would wait for ever: the offer again brings it back. A claim of a task offered
 * twice after the step was leased is stale and gets nothing.
 */
export const REOFFER_MS = 30_000;

/** What the outbox needs of its run; read at delivery time, since state moves on. */
export interface OutboxHost {
  env: Env;
  timers: TimerTable;
  store: RunStore;
  current(): { init: StoredInit; state: RunState; machine: MachineContext } | undefined;
  selectorOf(stepName: string): Selector;
  fire(event: RunEvent): Promise<unknown>;
}

/** The deliveries an event's effects asked for, recorded with their timers. */
export interface Deliveries {
  dispatch: string[];
  lostRunners: Array<{ runnerId: string; at: number }>;
  children: Array<Extract<Effect, { type: "startChild" | "stopChild" }>>;
  summary: boolean;
}

export class Outbox {
  constructor(private readonly host: OutboxHost) {}

  /**
   * Stores what the effects change in this object (timers, run log) and the outbox entries with
   * their retry timers. Call inside the transaction that stores the new state. A dispatched step
   * in `claimed` was leased in the same transaction and needs no dispatcher.
   */
  record(effects: Effect[], now: number, claimed: ReadonlySet<string> = new Set()): Deliveries {
    const { timers, store } = this.host;
    const out: Deliveries = { dispatch: [], lostRunners: [], children: [], summary: false };
    const lines: string[] = [];
    for (const e of effects) {
      switch (e.type) {
        case "dispatch":
          if (claimed.has(e.step)) break;
          out.dispatch.push(e.step);
          timers.set(outboxTimer.enqueue(e.step), now + DISPATCH_SAFETY_MS);
          break;
        case "startChild":
        case "stopChild":
          // Stored with the state, like a dispatch: done later if this object is interrupted.
          out.children.push(e);
          timers.set(childTimer(e), now + DISPATCH_SAFETY_MS);
          break;
        case "runStatus":
          out.summary = true;
          break;
        case "runnerLost":
          out.lostRunners.push(e);
          break;
        case "setTimer":
          timers.set(e.key, e.at);
          break;
        case "clearTimer":
          timers.clear(e.key);
          break;
        case "log":
          lines.push(e.message);
          break;
        case "clearLog":
          // The RunObject clears the attempt's log (its log store) in this same transaction.
          break;
        default:
          // A new effect fails to compile here until it is stored or delivered.
          return e satisfies never;
      }
    }
    store.appendRunLogLines(lines);
    // A leased step needs no more offers (a timer not set costs nothing to clear).
    for (const step of claimed) timers.clear(outboxTimer.enqueue(step));
    return out;
  }

  /** Delivers what `record` stored. */
  async deliver(d: Deliveries): Promise<void> {
    // The dispatcher hears of a lost runner before it sees the re-dispatched step.
    if (d.lostRunners.length) await this.reportLostRunners(d.lostRunners);
    if (d.dispatch.length) await this.enqueue(d.dispatch);
    for (const e of d.children)
      await (e.type === "startChild" ? this.startChild(e.step) : this.stopChild(e.childRunId));
    if (d.summary) await this.writeSummary();
  }

  /** Hands dispatched steps to the dispatcher; on failure a timer tries again. */
  async enqueue(stepNames: string[]): Promise<void> {
    const run = this.host.current();
    if (!run) return;
    const { timers } = this.host;
    const runId = run.init.runId;
    const tasks: DispatchTask[] = [];
    for (const name of stepNames) {
      const s = run.state.steps[name];
      if (s?.phase.kind === "queued")
        tasks.push({ runId, step: name, dispatchSeq: s.dispatchSeq, selector: this.host.selectorOf(name) });
    }
    const handedOver = async () => {
      // Steps no longer queued need nothing more; queued ones are offered again later (REOFFER_MS).
      const queued = new Set(tasks.map((t) => t.step));
      for (const name of stepNames) if (!queued.has(name)) timers.clear(outboxTimer.enqueue(name));
      if (!queued.size) return;
      const at = Date.now() + REOFFER_MS;
      for (const name of queued) timers.set(outboxTimer.enqueue(name), at);
      await timers.arm();
    };
    if (!tasks.length) return handedOver();
    try {
      const byPool = new Map<string, DispatchTask[]>();
      for (const t of tasks) byPool.set(poolOf(t.selector), [...(byPool.get(poolOf(t.selector)) ?? []), t]);
      await Promise.all([...byPool].map(([pool, ts]) => dispatcherFor(this.host.env, pool).enqueue(ts)));
      await handedOver();
    } catch (err) {
      console.error(`run ${runId}: dispatcher unreachable, retrying`, err);
      const at = Date.now() + EFFECT_RETRY_MS;
      for (const t of tasks) timers.set(outboxTimer.enqueue(t.step), at);
      await timers.arm();
    }
  }

  /** Creates and starts a call step's sub-DAG run; on failure the `child:` timer tries again. */
  async startChild(stepName: string): Promise<void> {
    const { timers, env } = this.host;
    const timer = outboxTimer.startChild(stepName);
    const run = this.host.current();
    const s = run?.state.steps[stepName];
    const def = run?.machine.stepsByName.get(stepName);
    if (!run || s?.phase.kind !== "calling" || !def) {
      timers.clear(timer);
      return;
    }
    const childRunId = s.phase.childRunId;
    try {
      const started = await startSubRun(env, { init: run.init, state: run.state }, def, childRunId);
      timers.clear(timer);
      if (!started.ok) {
        await this.host.fire({
          type: "childDone",
          step: stepName,
          childRunId,
          status: "failed",
          outputs: {},
          paramsText: "",
          error: started.error,
        });
      } else if (stopAsked(this.host.current()?.state.steps[stepName]?.phase)) {
        // A stop that came while the child was being created found nothing to stop.
        await this.stopChild(childRunId);
      }
    } catch (err) {
      console.error(`run ${run.init.runId}: sub-DAG run ${childRunId} could not be started, retrying`, err);
      timers.set(timer, Date.now() + EFFECT_RETRY_MS);
      await timers.arm();
    }
  }

  /** Stops a sub-DAG run; on failure the `stopchild:` timer tries again. */
  async stopChild(childRunId: string): Promise<void> {
    const { timers, env } = this.host;
    const timer = outboxTimer.stopChild(childRunId);
    try {
      // not_found: not created yet; startChild stops it once it is.
      await runStub(env, childRunId).stop();
      timers.clear(timer);
    } catch (err) {
      const runId = this.host.current()?.init.runId;
      console.error(`run ${runId}: sub-DAG run ${childRunId} could not be stopped, retrying`, err);
      timers.set(timer, Date.now() + EFFECT_RETRY_MS);
      await timers.arm();
    }
  }

  /** The D1 summary row follows run-level transitions; a failed write is retried by timer. */
  async writeSummary(): Promise<void> {
    const run = this.host.current();
    if (!run) return;
    const { env } = this.host;
    const s = run.state;
    try {
      await updateRunSummary(db(env.DB), s.runId, {
        status: s.status,
        startedAt: s.startedAt ?? null,
        finishedAt: s.finishedAt ?? null,
        steps: isTerminalRun(s.status) ? JSON.stringify(stepStats(s)) : null,
        updatedAt: Date.now(),
      });
      if (isTerminalRun(s.status)) timingMark(env, "summary", s.runId);
      // A finished run's mail (mailOn) is handed to its MailObject, which sends it.
      if (isTerminalRun(s.status) && run.init.dag.mail) await mailAfterFinish(env, run.init.dag, s);
      const parent = run.init.parent;
      if (isTerminalRun(s.status) && parent) {
        // A sub-DAG run's end is its calling step's end.
        const report: SubRunReport = {
          step: parent.step,
          childRunId: s.runId,
          status: s.status,
          outputs: s.outputs,
          paramsText: run.init.paramsText,
        };
        unwrap((await runStub(env, parent.runId).childFinished(report)) as Outcome<void>);
      } else if (isTerminalRun(s.status) && run.init.viaAdmission !== false) {
        // A finished run frees its admission slot (and lets retention look at its DAG).
        await admission(env).finished(s.runId, s.dagName, run.init.dag.histRetentionDays);
      } else if (isTerminalRun(s.status) && run.init.dag.histRetentionDays !== undefined) {
        // A run without limits never involved the single admission object: it stays out of it.
        await retainAfterFinish(env, s.dagName, run.init.dag.histRetentionDays, s.runId);
      }
    } catch (err) {
      console.error(`run ${s.runId}: D1 summary or admission unreachable, retrying`, err);
      this.host.timers.set(outboxTimer.summary, Date.now() + EFFECT_RETRY_MS);
    }
  }

  /** Tells every pool this run's steps go to that runners were lost (a runner polls one pool). */
  private async reportLostRunners(lost: Array<{ runnerId: string; at: number }>): Promise<void> {
    const run = this.host.current();
    if (!run) return;
    try {
      const pools = new Set(run.machine.allSteps.map((s) => poolOf(this.host.selectorOf(s.name))));
      await Promise.all([...pools].map((p) => dispatcherFor(this.host.env, p).runnersLost(lost)));
    } catch (err) {
      // Worst case a dead runner's leftover poll takes a lease, which then goes unconfirmed.
      console.error("dispatcher unreachable while reporting lost runners", err);
    }
  }
}

function childTimer(e: Extract<Effect, { type: "startChild" | "stopChild" }>): string {
  return e.type === "startChild" ? outboxTimer.startChild(e.step) : outboxTimer.stopChild(e.childRunId);
}

/** A call step whose run was stopped while its sub-DAG run was being created. */
const stopAsked = (p: Phase | undefined) => p?.kind === "calling" && p.stopRequested;
