// A failed attempt is retried within retryPolicy, and a step under repeatPolicy runs again. PURE.
// A step whose next attempt or execution is due at once is left in `ready` for settle.
import type { Draft } from "./draft";
import { continueCovers, intervalMs } from "./rules";
import { timerKey } from "./timers";
import type { StepResult } from "./types";

/** Dagu's exit code of an execution its timeoutSec stopped. */
const TIMED_OUT_EXIT_CODE = 124;

/**
 * An attempt failed. As in Dagu: it is retried first (retryPolicy); with no retry left, a step
 * under a repeatPolicy may run again (`r`, the runner's result, decides); otherwise
 * continueOn.markSuccess passes it, or the step fails.
 */
export function failAttempt(d: Draft, name: string, error: string, r?: StepResult): void {
  if (retryAttempt(d, name, error)) return;
  if (r && repeatAgain(d, name, r, false)) return;
  const def = d.def(name);
  if (def.continueOn.markSuccess && continueCovers(def, d.step(name))) {
    d.log(`step ${name} failed (${error}); marked successful by continueOn.markSuccess`);
    d.finish(name, "succeeded");
    return;
  }
  d.finish(name, "failed", error);
}

/** Schedules the next attempt when retryPolicy allows one; false when it does not. */
function retryAttempt(d: Draft, name: string, error: string): boolean {
  const s = d.step(name);
  const policy = d.def(name).retryPolicy;
  d.clearStepTimers(name);
  const retriable = !policy.exitCode?.length || (s.exitCode != null && policy.exitCode.includes(s.exitCode));
  if (s.retryCount >= policy.limit || !retriable || d.state.stopRequested) return false;
  const retryCount = s.retryCount + 1;
  const wait = intervalMs(policy, retryCount);
  d.move(name, { kind: "retryWait", at: d.now + wait }, { retryCount, error, finishedAt: d.now });
  d.log(`step ${name} failed (${error}); retry ${retryCount}/${policy.limit} in ${wait / 1000}s`);
  if (wait > 0) d.setTimer(timerKey.retry(name), d.now + wait);
  else d.ready.push(name);
  return true;
}

/**
 * Under a repeatPolicy, whether this execution is followed by another; if so, schedules it.
 * Dagu's rule, whatever the execution's outcome: with a condition (evaluated by the runner after
 * the command), `while` repeats while it holds and `until` until it holds; with exit codes,
 * `while` repeats while the exit code is listed and `until` until it is (a failing execution
 * too); with neither, `while` repeats while the step succeeds. `limit` executions at most. An
 * execution that never ran (its runner could not start it) is not repeated.
 */
export function repeatAgain(d: Draft, name: string, r: StepResult, succeeded: boolean): boolean {
  const p = d.def(name).repeatPolicy;
  if (!p || d.state.stopRequested || r.error !== undefined) return false;
  const done = d.step(name).doneCount ?? 1;
  let again: boolean;
  if (p.condition !== undefined) {
    // No answer from the runner (it could not evaluate the condition): nothing to repeat on.
    if (r.repeatConditionMet === undefined) return false;
    again = p.mode === "while" ? r.repeatConditionMet : !r.repeatConditionMet;
  } else if (p.exitCode?.length) {
    const code = r.timedOut ? TIMED_OUT_EXIT_CODE : r.exitCode;
    const listed = code != null && p.exitCode.includes(code);
    again = p.mode === "while" ? listed : !listed;
  } else again = p.mode === "while" ? succeeded : !succeeded;
  if (!again) return false;
  if (p.limit !== undefined && done >= p.limit) {
    d.log(`step ${name}: repeat limit ${p.limit} reached`);
    return false;
  }
  const wait = intervalMs(p, done);
  d.clearStepTimers(name);
  // As in Dagu, the failure of an execution that is repeated is not the step's error.
  d.move(name, { kind: "repeatWait", at: d.now + wait }, { error: undefined });
  const outcome = succeeded ? "done" : `failed (${describeFailure(r)})`;
  d.log(`step ${name}: execution ${done} ${outcome}; repeating in ${wait / 1000}s`);
  if (wait > 0) d.setTimer(timerKey.repeat(name), d.now + wait);
  else d.ready.push(name);
  return true;
}

export function describeFailure(r: StepResult): string {
  if (r.error) return r.error;
  if (r.timedOut) return "timed out";
  if (r.signal) return `killed by ${r.signal}`;
  return `exit status ${r.exitCode}`;
}
