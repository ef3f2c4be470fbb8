// A failed attempt is retried within retryPolicy, and a step under repeatPolicy runs again. PURE.
// A step whose next attempt or execution is due at once is left in `ready` for settle.
import type { Draft } from "./draft";
import { continueCovers, intervalMs } from "./rules";
import { timerKey } from "./timers";
import type { StepResult } from "./types";

/** An attempt failed: retry it (retryPolicy), let continueOn.markSuccess pass it, or fail the step. */
export function failAttempt(d: Draft, name: string, error: string): void {
  const s = d.step(name);
  const def = d.def(name);
  const policy = def.retryPolicy;
  d.clearStepTimers(name);
  const retriable = !policy.exitCode?.length || (s.exitCode != null && policy.exitCode.includes(s.exitCode));
  if (s.retryCount < policy.limit && retriable && !d.state.stopRequested) {
    const retryCount = s.retryCount + 1;
    const wait = intervalMs(policy, retryCount);
    d.move(name, { kind: "retryWait", at: d.now + wait }, { retryCount, error, finishedAt: d.now });
    d.log(`step ${name} failed (${error}); retry ${retryCount}/${policy.limit} in ${wait / 1000}s`);
    if (wait > 0) d.setTimer(timerKey.retry(name), d.now + wait);
    else d.ready.push(name);
    return;
  }
  if (def.continueOn.markSuccess && continueCovers(def, s)) {
    d.log(`step ${name} failed (${error}); marked successful by continueOn.markSuccess`);
    d.finish(name, "succeeded");
    return;
  }
  d.finish(name, "failed", error);
}

/**
 * Under a repeatPolicy, whether this execution is followed by another; if so, schedules it. The
 * policy's condition (evaluated by the runner), else its exit codes, else success, is what
 * "holds"; `while` repeats while it holds, `until` until it does. A failure that is not one of
 * the policy's exit codes ends the repeating and goes the usual way (retries, failure).
 */
export function repeatAgain(d: Draft, name: string, r: StepResult, succeeded: boolean): boolean {
  const p = d.def(name).repeatPolicy;
  if (!p || d.state.stopRequested) return false;
  const byExitCode = r.exitCode != null && (p.exitCode?.includes(r.exitCode) ?? false);
  if (!succeeded && !byExitCode) return false;
  const holds = p.condition !== undefined ? r.repeatConditionMet === true : p.exitCode?.length ? byExitCode : succeeded;
  if (p.mode === "while" ? !holds : holds) return false;
  const done = d.step(name).doneCount ?? 1;
  if (p.limit !== undefined && done >= p.limit) {
    d.log(`step ${name}: repeat limit ${p.limit} reached`);
    return false;
  }
  const wait = intervalMs(p, done);
  d.clearStepTimers(name);
  d.move(name, { kind: "repeatWait", at: d.now + wait });
  d.log(`step ${name}: execution ${done} done; repeating in ${wait / 1000}s`);
  if (wait > 0) d.setTimer(timerKey.repeat(name), d.now + wait);
  else d.ready.push(name);
  return true;
}
