// A run's life before and between its steps: start, the DAG's preconditions, handlerOn.init,
// delaySec, and a step becoming ready once its dependencies are done. PURE.
import type { StepStatus } from "../../status";
import { isTerminalStep } from "../../status";
import { DAG_ENV_STEP, DAG_PRECONDITIONS_STEP, INIT_STEP } from "./context";
import type { Draft } from "./draft";
import { continueCovers, letsDependentsRun } from "./rules";
import { timerKey } from "./timers";
import type { Reply } from "./types";

export function onStart(d: Draft): Reply {
  if (d.state.status !== "not_started" && d.state.status !== "queued") return { kind: "none" };
  d.state.status = "running";
  d.state.startedAt = d.now;
  d.effects.push({ type: "runStatus", status: "running" });
  d.log(`run ${d.state.runId} of ${d.state.dagName} started`);
  const { timeoutSec } = d.ctx.dag;
  if (timeoutSec) d.setTimer(timerKey.runTimeout, d.now + timeoutSec * 1000);
  if (envToEvaluate(d)) d.ready.push(DAG_ENV_STEP);
  else afterEnv(d);
  return { kind: "none" };
}

/** The run has an env step whose values it does not have yet: it runs first, alone. */
export function envToEvaluate(d: Draft): boolean {
  return d.ctx.stepsByName.has(DAG_ENV_STEP) && d.step(DAG_ENV_STEP).status !== "succeeded";
}

/** The DAG's env is evaluated (or needs no shell): its preconditions are checked, alone. */
export function afterEnv(d: Draft): void {
  if (d.ctx.stepsByName.has(DAG_PRECONDITIONS_STEP)) d.ready.push(DAG_PRECONDITIONS_STEP);
  else afterPreconditions(d);
}

/** The DAG's preconditions hold (or it has none): handlerOn.init runs, alone, before any step. */
export function afterPreconditions(d: Draft): void {
  if (d.ctx.dag.handlerOn?.init) d.ready.push(INIT_STEP);
  else beforeSteps(d);
}

/** handlerOn.init ended: the steps go on, or (it failed or was stopped) none of them runs. */
export function initDone(d: Draft, status: StepStatus, error?: string): void {
  if (initLetsStepsRun(d)) {
    const from = d.state.retryFrom;
    d.state.retryFrom = undefined;
    if (d.state.stopRequested) return;
    if (from) for (const name of from) startWhenReady(d, name);
    else beforeSteps(d);
    return;
  }
  d.state.retryFrom = undefined;
  for (const def of d.ctx.dag.steps) {
    if (!isTerminalStep(d.step(def.name).status)) {
      d.finish(def.name, "aborted", `handlerOn.init ${status}${error ? `: ${error}` : ""}`);
    }
  }
}

export function initLetsStepsRun(d: Draft): boolean {
  const s = d.step(INIT_STEP);
  return (
    s.status === "succeeded" || s.status === "skipped" || (s.status === "failed" && continueCovers(d.def(INIT_STEP), s))
  );
}

/** Wait delaySec, then make the first steps ready. */
function beforeSteps(d: Draft): void {
  const delaySec = d.ctx.dag.delaySec;
  if (delaySec) {
    d.log(`first steps start in ${delaySec}s (delaySec)`);
    d.setTimer(timerKey.runDelay, d.now + delaySec * 1000);
  } else readyRoots(d);
}

/** The steps without dependencies are ready. */
export function readyRoots(d: Draft): void {
  for (const def of d.ctx.dag.steps) if (def.depends.length === 0) d.ready.push(def.name);
}

/** A step whose dependencies are all done is ready, or is skipped/aborted as Dagu does. */
export function startWhenReady(d: Draft, name: string): void {
  let blocker: string | undefined;
  for (const dep of d.def(name).depends) {
    const s = d.step(dep);
    if (!isTerminalStep(s.status)) return;
    if (blocker === undefined && !letsDependentsRun(d.def(dep), s)) blocker = dep;
  }
  if (blocker === undefined) d.ready.push(name);
  else if (d.step(blocker).status === "skipped") d.finish(name, "skipped", `upstream step ${blocker} was skipped`);
  else d.finish(name, "aborted", `upstream step ${blocker} ${d.step(blocker).status}`);
}

/** An unmet DAG precondition: the run ends aborted, none of its steps having run. */
export function abortForPrecondition(d: Draft, why: string): void {
  d.finish(DAG_PRECONDITIONS_STEP, "skipped", `precondition not met: ${why}`);
  d.state.preconditionUnmet = why;
  d.log(`DAG precondition not met: ${why}; the run is aborted`);
  for (const s of Object.values(d.state.steps)) {
    if (s.phase.kind !== "done")
      d.move(s.name, { kind: "done", status: "skipped" }, { error: "DAG precondition not met" });
  }
}
