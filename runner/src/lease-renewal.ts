// A step's heartbeats: the lease renewed at a third of its TTL (or the server's interval, when
// shorter) until the signal ends them; a heartbeat's answer may cancel the step, and a refused
// one means the lease now belongs to another attempt.
import { AuthError, LeaseLostError } from "./client.ts";
import { backoffMs, DEFAULT_BACKOFF, sleep } from "./retries.ts";
import type { StepState } from "./step-state.ts";

/** The first heartbeat confirms the lease: the server takes back leases unconfirmed after 5 s. */
const FIRST_HEARTBEAT_MS = 500;
/** A heartbeat slower than this is abandoned and tried again. */
const MAX_HEARTBEAT_WAIT_MS = 10_000;
/** Floor of the renewal interval, so a tiny TTL cannot make the runner spin. */
const MIN_HEARTBEAT_INTERVAL_MS = 50;

/** Renews the step's lease until `signal` aborts; `onLost` when the server gave it away. */
export async function renewLease(
  s: StepState,
  signal: AbortSignal,
  onLost: (err: LeaseLostError) => void,
): Promise<void> {
  const { lease, opts } = s;
  let intervalMs = renewalIntervalMs(lease.heartbeatIntervalMs, lease.ttlMs);
  let delayMs = Math.min(FIRST_HEARTBEAT_MS, intervalMs);
  let expiresAt = Date.now() + lease.ttlMs;
  let failures = 0;
  for (;;) {
    await sleep(delayMs, signal);
    if (signal.aborted) return;
    try {
      const res = await opts.client.heartbeat(lease.leaseId, lease.token, Math.min(MAX_HEARTBEAT_WAIT_MS, intervalMs));
      if (signal.aborted) return;
      failures = 0;
      expiresAt = Date.now() + res.ttlMs;
      intervalMs = renewalIntervalMs(lease.heartbeatIntervalMs, res.ttlMs);
      delayMs = intervalMs;
      if (res.cancel && !s.hasExited && s.stopReason === undefined) {
        opts.log(`${s.label}: cancelled by the server; stopping its process group`);
        s.stop("cancel");
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof LeaseLostError) return onLost(err);
      if (err instanceof AuthError) return opts.onAuthError?.(err);
      failures++;
      // Sooner than the interval while failing, so one lost request does not cost the lease.
      delayMs = Math.min(intervalMs, backoffMs(failures, opts.backoff ?? DEFAULT_BACKOFF));
      if (failures === 1 && Date.now() > expiresAt) {
        opts.log(`${s.label}: lease not renewed within its TTL; the server may have given the step away`);
      }
    }
  }
}

function renewalIntervalMs(heartbeatIntervalMs: number, ttlMs: number): number {
  return Math.max(MIN_HEARTBEAT_INTERVAL_MS, Math.min(heartbeatIntervalMs, Math.floor(ttlMs / 3)));
}
