// A step's completion: its outcome as the protocol's CompleteRequest, secrets masked, with the
// request for the runner's next leases riding on it; sent once more as a plain failure when the
// server refuses it as it is.
import type { CompleteRequest, Lease } from "../../src/shared/protocol.ts";
import { AbortedError, AuthError, LeaseLostError, RejectedError } from "./client.ts";
import type { Outcome } from "./step-outcome.ts";
import type { StepState } from "./step-state.ts";

/** Reports the outcome; returns the leases that came back with the completion. */
export async function report(s: StepState, o: Outcome, shutdown: AbortSignal): Promise<Lease[]> {
  const req = completeRequest(s, o);
  const next = s.opts.askNext?.();
  if (next) req.next = next;
  try {
    const res = await completeOrExplain(s, req, shutdown);
    s.opts.log(`${s.label}: completion ${res.accepted ? "accepted" : "already recorded"}`);
    return res.next;
  } catch (err) {
    if (err instanceof AuthError) s.opts.onAuthError?.(err);
    else if (err instanceof LeaseLostError) s.opts.log(`${s.label}: completion refused, lease lost (${err.message})`);
    else if (!(err instanceof AbortedError)) s.opts.log(`${s.label}: completion refused: ${(err as Error).message}`);
    return [];
  }
}

function completeRequest(s: StepState, o: Outcome): CompleteRequest {
  const req: CompleteRequest = {
    token: s.lease.token,
    exitCode: o.exitCode,
    signal: o.signal,
    timedOut: s.stopReason === "timeout",
    cancelled: s.stopReason === "cancel",
    outputTruncated: o.outputTruncated,
    lastLogSeq: s.shipper.lastSeq,
    droppedLogBytes: s.shipper.droppedLogBytes,
  };
  if (o.error !== undefined) req.error = s.masker.text(o.error);
  if (o.output !== undefined) req.output = o.output;
  if (o.env !== undefined) req.env = o.env;
  if (o.preconditionUnmet !== undefined) req.preconditionUnmet = s.masker.text(o.preconditionUnmet);
  if (o.repeatConditionMet !== undefined) req.repeatConditionMet = o.repeatConditionMet;
  if (o.outputMatched !== undefined) req.outputMatched = o.outputMatched;
  if (o.startedAt !== undefined) req.processStartedAt = o.startedAt;
  if (o.exitedAt !== undefined) req.processExitedAt = o.exitedAt;
  if (s.files) {
    req.stdoutPath = s.masker.text(s.files.stdout);
    req.stderrPath = s.masker.text(s.files.stderr);
  }
  return req;
}

/**
 * A result the server refuses as it is (a 4xx other than 409: too large, malformed) would
 * leave the step running until its lease expires, and then run it again. It is reported once
 * more as a failure that says why, without the parts the server refused.
 */
async function completeOrExplain(s: StepState, req: CompleteRequest, shutdown: AbortSignal) {
  const { client } = s.opts;
  const { leaseId } = s.lease;
  // The lease the completion's `next` should hold: the successor this lease offered.
  const prefer = () => s.lease.successor?.leaseId;
  try {
    return await client.complete(leaseId, req, shutdown, prefer());
  } catch (err) {
    if (!(err instanceof RejectedError)) throw err;
    s.opts.log(`${s.label}: result refused (${err.message}); reporting the step as failed`);
    const { token, lastLogSeq, droppedLogBytes, next } = req;
    const error = `the server refused this step's result: ${err.message}`;
    const failed: CompleteRequest = { token, exitCode: null, error, lastLogSeq, droppedLogBytes };
    if (next) failed.next = next;
    return await client.complete(leaseId, failed, shutdown, prefer());
  }
}
