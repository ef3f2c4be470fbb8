// A step's heartbeats: the lease renewed at a third of its TTL (or the server's interval, when
// shorter) until they are ended; a heartbeat's answer may cancel the step, and a refused one
// means the lease now belongs to another attempt. One plain timer waits for the next heartbeat,
// so a step that ends before its first one (most steps of a chain or a wide run) costs a timer
// set and cleared: no promise, signal or listener (about 0.1 ms per step on a loaded host).
import { AuthError, LeaseLostError } from "./client.ts";
import { backoffMs, DEFAULT_BACKOFF } from "./retries.ts";
import type { StepState } from "./step-state.ts";

/** The first heartbeat confirms the lease: the server takes back leases unconfirmed after 5 s. */
const FIRST_HEARTBEAT_MS = 500;
/** A heartbeat slower than this is abandoned and tried again. */
const MAX_HEARTBEAT_WAIT_MS = 10_000;
/** Floor of the renewal interval, so a tiny TTL cannot make the runner spin. */
const MIN_HEARTBEAT_INTERVAL_MS = 50;

export class LeaseRenewal {
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private intervalMs: number;
  private expiresAt: number;
  private failures = 0;

  /** Starts renewing the step's lease; `onLost` when the server gave it away. */
  constructor(
    private readonly s: StepState,
    private readonly onLost: (err: LeaseLostError) => void,
  ) {
    const { lease } = s;
    this.intervalMs = renewalIntervalMs(lease.heartbeatIntervalMs, lease.ttlMs);
    this.expiresAt = Date.now() + lease.ttlMs;
    this.schedule(Math.min(FIRST_HEARTBEAT_MS, this.intervalMs));
  }

  /** No more heartbeats; one still on the wire is ignored when it answers. */
  end(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.beat(), delayMs);
  }

  private async beat(): Promise<void> {
    this.timer = undefined;
    if (this.ended) return;
    const { lease, opts } = this.s;
    try {
      const waitMs = Math.min(MAX_HEARTBEAT_WAIT_MS, this.intervalMs);
      const res = await opts.client.heartbeat(lease.leaseId, lease.token, waitMs);
      if (this.ended) return;
      this.failures = 0;
      this.expiresAt = Date.now() + res.ttlMs;
      this.intervalMs = renewalIntervalMs(lease.heartbeatIntervalMs, res.ttlMs);
      if (res.cancel && !this.s.hasExited && this.s.stopReason === undefined) {
        opts.log(`${this.s.label}: cancelled by the server; stopping its process group`);
        this.s.stop("cancel");
      }
      this.schedule(this.intervalMs);
    } catch (err) {
      if (this.ended) return;
      if (err instanceof LeaseLostError) return this.onLost(err);
      if (err instanceof AuthError) return opts.onAuthError?.(err);
      this.failures++;
      if (this.failures === 1 && Date.now() > this.expiresAt) {
        opts.log(`${this.s.label}: lease not renewed within its TTL; the server may have given the step away`);
      }
      // Sooner than the interval while failing, so one lost request does not cost the lease.
      this.schedule(Math.min(this.intervalMs, backoffMs(this.failures, opts.backoff ?? DEFAULT_BACKOFF)));
    }
  }
}

function renewalIntervalMs(heartbeatIntervalMs: number, ttlMs: number): number {
  return Math.max(MIN_HEARTBEAT_INTERVAL_MS, Math.min(heartbeatIntervalMs, Math.floor(ttlMs / 3)));
}
