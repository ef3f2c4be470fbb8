// What people do to a run by hand: approve or reject a step, retry a finished run in place, set
// a step's status on a finished run. PURE.
import { isTerminalRun } from "../../status";
import { DAG_ENV_STEP, DAG_PRECONDITIONS_STEP, extraSteps, INIT_STEP, newStep } from "./context";
import { dispatch } from "./dispatch";
import type { Draft } from "./draft";
import { envToEvaluate, initLetsStepsRun, readyRoots, startWhenReady } from "./lifecycle";
import { deriveRunStatus } from "./run-status";
import { onStop } from "./stop";
import { timerKey } from "./timers";
import type { EventOf, Reply } from "./types";

export function onApprove(d: Draft, e: EventOf<"approve">): Reply {
  const s = d.step(e.step);
  if (s.status !== "waiting" || d.state.stopRequested) return { kind: "approval", ok: false, status: s.status };
  const why = e.reason ? `: ${e.reason}` : "";
  if (!e.approved) {
    d.state.rejected = true;
    d.finish(e.step, "rejected", `rejected${why}`);
    onStop(d);
    return { kind: "approval", ok: true, status: "rejected" };
  }
  d.update(e.step, { approved: true });
  d.log(`step ${e.step} approved${why}`);
  const def = d.def(e.step);
  // Without a command, the approval is the whole step. Dispatched here: the reply tells where it went.
  if (def.command?.trim() || def.script?.trim() || def.call) dispatch(d, e.step);
  else d.finish(e.step, "succeeded");
  return { kind: "approval", ok: true, status: d.step(e.step).status };
}

/**
 * Re-opens a finished run for `names`: each is reset (its attempt count kept, so the logs of
 * earlier attempts stay readable) and runs once its dependencies let it; the other steps keep
 * their outcome and outputs. The handlers run again at the end. `all`: every step, the DAG's
 * preconditions checked again, as at start.
 */
export function onRetry(d: Draft, e: EventOf<"retry">): Reply {
  if (!isTerminalRun(d.state.status)) return { kind: "manual", ok: false, reason: `the run is ${d.state.status}` };
  // The DAG's env, evaluated once, stays the run's; a run that never got it starts over.
  const envAgain = envToEvaluate(d);
  const all = (e.all ?? false) || envAgain;
  const names = envAgain ? d.ctx.dag.steps.map((s) => s.name) : e.steps;
  const again = new Set(names);
  // Instances of fan-out steps are not reset here: a fan-out step that runs again expands again.
  const extra = extraSteps(d.ctx.dag, d.state)
    .map((s) => s.name)
    .filter((n) => n !== DAG_ENV_STEP || envAgain);
  // The DAG's preconditions and init ran for the run; only a retry of everything runs them again,
  // and a retry of some steps runs init again when it had failed (the steps need what it prepares).
  const initAgain = all || (d.ctx.dag.handlerOn?.init !== undefined && !initLetsStepsRun(d));
  const reset = [
    ...names,
    ...extra.filter((n) => (all || n !== DAG_PRECONDITIONS_STEP) && (initAgain || n !== INIT_STEP)),
  ];
  for (const name of reset) {
    const s = d.step(name);
    d.put({
      ...newStep(name),
      attempt: s.attempt,
      dispatchSeq: s.dispatchSeq,
      doneTokens: s.doneTokens,
      ...(s.subRuns && { subRuns: s.subRuns }),
    });
  }
  Object.assign(d.state, {
    status: "running",
    stopRequested: false,
    timedOut: undefined,
    rejected: undefined,
    preconditionUnmet: undefined,
    handlers: undefined,
    // As in Dagu, a retried run starts again: its duration is the retry's.
    startedAt: d.now,
    finishedAt: undefined,
  });
  d.effects.push({ type: "runStatus", status: "running" });
  d.log(`retry: running ${all ? "every step" : names.join(", ")} again`);
  const { timeoutSec } = d.ctx.dag;
  if (timeoutSec) d.setTimer(timerKey.runTimeout, d.now + timeoutSec * 1000);
  if (all) {
    if (envAgain) d.ready.push(DAG_ENV_STEP);
    else if (d.ctx.stepsByName.has(DAG_PRECONDITIONS_STEP)) d.ready.push(DAG_PRECONDITIONS_STEP);
    else if (d.ctx.dag.handlerOn?.init) d.ready.push(INIT_STEP);
    else readyRoots(d);
    return { kind: "manual", ok: true };
  }
  const from = d.ctx.dag.steps.filter((def) => again.has(def.name) && !def.depends.some((n) => again.has(n)));
  if (initAgain) {
    d.state.retryFrom = from.map((def) => def.name);
    d.ready.push(INIT_STEP);
  } else for (const def of from) startWhenReady(d, def.name);
  return { kind: "manual", ok: true };
}

/** PATCH .../status: a step of a finished run gets `status`; the run's status is derived again. */
export function onSetStatus(d: Draft, e: EventOf<"setStatus">): Reply {
  const { step: name, status } = e;
  if (!isTerminalRun(d.state.status)) return { kind: "manual", ok: false, reason: `the run is ${d.state.status}` };
  if (!d.ctx.dag.steps.some((s) => s.name === name)) {
    return { kind: "manual", ok: false, reason: `${name} is not one of the DAG's steps` };
  }
  d.move(
    name,
    { kind: "done", status },
    { error: status === "succeeded" ? undefined : `status set to ${status} by hand` },
  );
  d.log(`step ${name}: status set to ${status} by hand`);
  d.state.rejected = Object.values(d.state.steps).some((s) => s.status === "rejected") || undefined;
  const runStatus = deriveRunStatus(d.ctx, d.state);
  if (runStatus !== d.state.status) {
    d.log(`run ${runStatus} (was ${d.state.status})`);
    d.state.status = runStatus;
    d.effects.push({ type: "runStatus", status: runStatus });
  }
  return { kind: "manual", ok: true };
}
