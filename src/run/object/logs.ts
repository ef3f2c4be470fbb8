// A run's logs through its object: a runner's log batches for the attempt it holds a lease on,
// a window of one step's log for the API, and the run's own log.
import { fail, type Outcome, ok } from "../../errors";
import type { LogEntry } from "../../shared/protocol";
import { leaseOf } from "../engine";
import type { LogSlice, LogWindow } from "../log-slice";
import { appendLog, closeLog, droppedBytes, type LogStream, readLog } from "../log-store";
import { staleLease } from "./lease-errors";
import type { RunCore } from "./run-core";

export function appendLogs(
  run: RunCore,
  stepIndex: number,
  token: string,
  entries: LogEntry[],
): Outcome<{ ackedSeq: number }> {
  const step = run.stepAt(stepIndex);
  const s = step ? run.state?.steps[step] : undefined;
  if (!step || !s || leaseOf(s)?.token !== token) {
    return staleLease("lease is no longer current");
  }
  const key = { step, attempt: s.attempt };
  const acked = run.ctx.storage.transactionSync(() => appendLog(run.sql, key, entries));
  run.live.logsAppended(step);
  return ok(acked);
}

/** A window of one stream of one attempt (the latest by default), with what was dropped. */
export function stepLog(
  run: RunCore,
  stepName: string,
  stream: LogStream,
  window: LogWindow,
  attempt?: number,
): Outcome<LogSlice & { attempt: number; droppedBytes: number }> {
  const s = run.state?.steps[stepName];
  if (!s) return fail("not_found", 404, `step "${stepName}" not found in this run`);
  const which = attempt ?? s.attempt;
  if (attempt !== undefined && attempt > s.attempt) {
    const has = s.attempt === 0 ? "has not run yet" : `has attempts 1 to ${s.attempt}`;
    return fail("not_found", 404, `step "${stepName}" has no attempt ${attempt} (it ${has})`, {
      field: "attempt",
    });
  }
  const key = { step: stepName, attempt: which };
  // No more entries come for an attempt that is over: what followed a gap can be shown.
  if (s.status !== "running" || which !== s.attempt) closeLog(run.sql, key);
  const slice = readLog(run.sql, key, stream, window);
  return ok({ ...slice, attempt: which, droppedBytes: droppedBytes(run.sql, key) });
}

export function runLog(run: RunCore): Outcome<string> {
  if (!run.state) return fail("not_found", 404, "run not found");
  return ok(run.store.runLogText());
}
