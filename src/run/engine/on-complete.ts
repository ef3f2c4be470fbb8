// A runner reports an attempt's result: the step succeeds, repeats, retries, fails, is skipped
// (a precondition was unmet) or is aborted (it was stopped). PURE.
import { DAG_ENV_STEP, DAG_PRECONDITIONS_STEP } from "./context";
import type { Draft } from "./draft";
import { currentLease } from "./leases";
import { abortForPrecondition, afterEnv, afterPreconditions } from "./lifecycle";
import { outputsOverLimit, setOutput } from "./outputs";
import { describeFailure, failAttempt, repeatAgain } from "./retries";
import type { EventOf, Reply } from "./types";

export function onComplete(d: Draft, e: EventOf<"complete">): Reply {
  const s = d.step(e.step);
  if (s.doneTokens.includes(e.token)) return { kind: "completed", accepted: false };
  const lease = currentLease(d, e.step, e.token);
  if (!lease) return { kind: "stale", reason: "lease is no longer current" };
  const r = e.result;
  const def = d.def(e.step);
  d.update(e.step, {
    doneTokens: [...s.doneTokens, e.token],
    // A result confirms the lease too (a short step may finish before its first heartbeat).
    runnerId: lease.runnerId,
    exitCode: r.exitCode,
    outputMatched: r.outputMatched ?? false,
    processStartedAt: r.processStartedAt,
    processExitedAt: r.processExitedAt,
    stdoutPath: r.stdoutPath,
    stderrPath: r.stderrPath,
  });
  // Env values evaluated once (backticks): the step's later attempts, or with the env step every
  // step of the run, get them as they are. A runner too old to send them leaves them to each step.
  if (r.env && Object.keys(r.env).length) d.update(e.step, { envValues: { ...s.envValues, ...r.env } });
  const succeeded = r.exitCode === 0 && !r.error && !r.timedOut;
  if (r.cancelled || lease.cancelRequested) {
    d.finish(e.step, "aborted", "stopped");
  } else if (r.preconditionUnmet !== undefined) {
    if (e.step === DAG_PRECONDITIONS_STEP) abortForPrecondition(d, r.preconditionUnmet);
    else d.finish(e.step, "skipped", `precondition not met: ${r.preconditionUnmet}`);
  } else {
    d.update(e.step, { doneCount: (s.doneCount ?? 0) + 1 });
    const tooBig = succeeded && def.output && r.output !== undefined && outputsOverLimit(d, def.output, r.output);
    if (succeeded && def.output && r.output !== undefined && !tooBig) setOutput(d, e.step, def.output, r.output);
    if (tooBig) {
      failAttempt(d, e.step, tooBig);
    } else if (!succeeded) {
      // Retried first, then perhaps repeated (repeatPolicy), as Dagu does.
      failAttempt(d, e.step, describeFailure(r), r);
    } else if (!repeatAgain(d, e.step, r, true)) {
      d.finish(e.step, "succeeded");
      if (e.step === DAG_ENV_STEP) afterEnv(d);
      if (e.step === DAG_PRECONDITIONS_STEP) afterPreconditions(d);
    }
  }
  return { kind: "completed", accepted: true };
}
