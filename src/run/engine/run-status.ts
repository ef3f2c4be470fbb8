// The run's own status: derived from its steps when they are all done (Dagu's rules), shown as
// `waiting` while only approvals are pending, and written when the run ends. PURE.
import type { RunStatus } from "../../status";
import type { Draft } from "./draft";
import { isActive, letsDependentsRun } from "./rules";
import { timerKey } from "./timers";
import type { MachineContext, RunState } from "./types";

/** Dagu's rules, for a run whose steps are all done. A walk of the DAG's steps: once per run end. */
export function deriveRunStatus(ctx: MachineContext, state: RunState): RunStatus {
  if (state.preconditionUnmet !== undefined) return "aborted";
  if (state.rejected) return "rejected";
  if (state.timedOut) return "failed";
  const steps = ctx.dag.steps.flatMap((def) => state.steps[def.name] ?? []);
  const allSucceeded = steps.every((s) => s.status === "succeeded" || s.status === "skipped");
  if (state.stopRequested && !allSucceeded) return "aborted";
  let hardFailure = false;
  let softFailure = false;
  let success = false;
  for (const s of steps) {
    const def = ctx.stepsByName.get(s.name);
    if (!def) continue;
    if (s.status === "succeeded") success = true;
    else if (s.status === "partially_succeeded") {
      // A call step whose sub-DAG run partially succeeded, or a fan-out step some of whose
      // instances failed under continueOn.
      success = true;
      softFailure = true;
    } else if (s.status === "aborted") hardFailure = true;
    else if (s.status === "failed") {
      if (letsDependentsRun(def, s)) softFailure = true;
      else hardFailure = true;
    }
  }
  if (hardFailure) return "failed";
  if (softFailure) return success ? "partially_succeeded" : "failed";
  return "succeeded";
}

/** The run shows `waiting` while some step waits for approval and nothing else is under way. */
export function showWaiting(d: Draft): void {
  if (!isActive(d.state.status)) return;
  const status: RunStatus = d.index.waiting > 0 && d.index.busy === 0 ? "waiting" : "running";
  if (status === d.state.status) return;
  d.state.status = status;
  d.effects.push({ type: "runStatus", status });
}

/** The run ends with `status`. Handlers that did not run stay not_started. */
export function finishRun(d: Draft, status: RunStatus): void {
  d.state.status = status;
  d.state.finishedAt = d.now;
  d.effects.push({ type: "runStatus", status });
  if (d.ctx.dag.timeoutSec) d.clearTimer(timerKey.runTimeout);
  if (d.ctx.dag.delaySec) d.clearTimer(timerKey.runDelay);
  d.log(`run ${status}`);
}
