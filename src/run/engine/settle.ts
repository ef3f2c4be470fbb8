// After every event, the consequences of what its handler recorded: steps made ready go out, a
// finished step ends its fan-out step or handlerOn.init's wait, its dependents run (or are
// skipped or aborted, as Dagu does), held-back steps take free slots, and once every step is
// done the handlers run and the run ends. PURE.

import type { RunStatus } from "../../status";
import { isTerminalStep } from "../../status";
import { DAG_ENV_STEP, DAG_PRECONDITIONS_STEP, handlerQueue, INIT_STEP } from "./context";
import { dispatch, fillSlots } from "./dispatch";
import type { Draft } from "./draft";
import { instanceFinished } from "./fanout";
import { initDone, startWhenReady } from "./lifecycle";
import { continueCovers, isActive } from "./rules";
import { deriveRunStatus, finishRun, showWaiting } from "./run-status";

export function settle(d: Draft): void {
  let seen = 0;
  for (;;) {
    drainReady(d);
    if (seen < d.finished.length) {
      afterFinish(d, d.finished[seen++] as string);
      continue;
    }
    if (!runOpen(d)) break;
    const before = d.finished.length;
    fillSlots(d);
    if (d.ready.length === 0 && d.finished.length === before) break;
  }
  if (runOpen(d)) runHandlersAndEnd(d);
  showWaiting(d);
}

/** Dispatches the ready steps in order, those that dispatching makes ready (instances) included. */
function drainReady(d: Draft): void {
  for (let i = 0; i < d.ready.length; i++) dispatch(d, d.ready[i] as string);
  d.ready.length = 0;
}

/** The run may still start steps (a queued run that is stopped finishes here too, as aborted). */
const runOpen = (d: Draft) => isActive(d.state.status) || d.state.status === "queued";

/** What follows from one step reaching its final status. */
function afterFinish(d: Draft, name: string): void {
  const s = d.step(name);
  instanceFinished(d, name);
  if (name === INIT_STEP && d.ctx.dag.handlerOn?.init) initDone(d, s.status, s.error);
  if (name === DAG_ENV_STEP && s.status !== "succeeded") {
    // Without the DAG's env no step can run, as Dagu's run does not start when its env fails.
    d.log(`the DAG's env could not be evaluated: ${s.error ?? s.status}`);
    for (const other of [...d.ctx.dag.steps.map((def) => def.name), DAG_PRECONDITIONS_STEP]) {
      const t = d.state.steps[other];
      if (t && !isTerminalStep(t.status)) {
        d.finish(other, "aborted", `the DAG's env could not be evaluated: ${s.error ?? s.status}`);
      }
    }
  }
  if (name === DAG_PRECONDITIONS_STEP && s.status === "failed") {
    // The check itself could not be done (its runner was lost, ...): no step can start.
    for (const def of d.ctx.dag.steps) {
      if (!isTerminalStep(d.step(def.name).status)) {
        d.finish(def.name, "aborted", `the DAG's preconditions could not be checked: ${s.error}`);
      }
    }
  }
  if (!runOpen(d) || d.state.stopRequested) return;
  for (const next of d.ctx.dependents.get(name) ?? []) {
    const t = d.step(next);
    // readyAt: it was made ready once already (a retry resets it).
    if (t.phase.kind !== "idle" || t.readyAt !== undefined) continue;
    startWhenReady(d, next);
    drainReady(d);
  }
}

/** Once the DAG's steps are all done: the handlers, one at a time, then the run's end. */
function runHandlersAndEnd(d: Draft): void {
  if (d.index.open > 0) return;
  if (!d.state.handlers) {
    const status = deriveRunStatus(d.ctx, d.state);
    // The handlers need what the run could not get: its preconditions, or its env.
    const envFailed = d.state.steps[DAG_ENV_STEP] !== undefined && d.state.steps[DAG_ENV_STEP].status !== "succeeded";
    const queue = d.state.preconditionUnmet === undefined && !envFailed ? handlerQueue(d.ctx.dag, status) : [];
    d.state.handlers = { status, queue };
    if (queue.length) d.log(`steps done (${status}); running ${queue.join(", ")}`);
  }
  for (;;) {
    const h: { status: RunStatus; queue: string[] } = d.state.handlers;
    const current = h.queue[0];
    if (current === undefined) break;
    const s = d.step(current);
    if (s.phase.kind === "idle" && s.readyAt === undefined) {
      dispatch(d, current, true);
      return;
    }
    if (!isTerminalStep(s.status)) return;
    // A failed handler fails the run; a stopped one ends the handlers, and the run is aborted.
    let status: RunStatus = h.status;
    if (s.status === "aborted") status = "aborted";
    else if (s.status === "failed" && !continueCovers(d.def(current), s)) status = "failed";
    d.state.handlers = { status, queue: s.status === "aborted" ? [] : h.queue.slice(1) };
  }
  finishRun(d, d.state.timedOut ? "failed" : d.state.handlers.status);
}
