// Leases this runner gives back unstarted (a reply that brought more than its free slots, a lease
// arriving while it drains, the steps of a forced stop), each within a bound: past it the lease
// simply expires on the server and the step is dispatched again. A drain waits for those still
// under way, so the server hears of every lease the runner will not run.
import type { Lease } from "../../src/shared/protocol.ts";
import type { Log, RunnerClient } from "./client.ts";

/** Upper bound on giving a lease back; past it the lease simply expires on the server. */
export const RELEASE_WAIT_MS = 10_000;
/** A forced shutdown should end within seconds, so it waits less. */
export const RELEASE_ON_ABORT_WAIT_MS = 2_000;

export class LeaseReleases {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly client: RunnerClient,
    private readonly log: Log,
  ) {}

  giveBack(lease: Lease, reason: string, waitMs: number): Promise<void> {
    const released = this.client.release(lease.leaseId, lease.token, reason, AbortSignal.timeout(waitMs)).then(
      () => this.log(`lease ${lease.leaseId}: released (${reason})`),
      // Not released in time: the lease expires on the server and the step is dispatched again.
      () => this.log(`lease ${lease.leaseId}: could not be released; it will expire`),
    );
    this.pending.add(released);
    void released.finally(() => this.pending.delete(released));
    return released;
  }

  /** Settles once every give-back under way has. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }
}
