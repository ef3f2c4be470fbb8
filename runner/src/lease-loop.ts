// The runner's slots: each slot long-polls for one lease, runs it, and asks for its next lease
// in the completion call, so a chain of steps costs one round trip per step.
import type { Lease } from "../../src/protocol.ts";
import { AuthError, backoffMs, type RunnerClient } from "./client.ts";
import { StepRun } from "./exec.ts";

export interface LoopOptions {
  client: RunnerClient;
  runnerId: string;
  labels: Record<string, string>;
  concurrency: number;
  log: (line: string) => void;
  /** How long a lease request waits for work. */
  waitMs?: number;
}

export class LeaseLoop {
  readonly running = new Set<StepRun>();
  private draining = false;
  private readonly polls = new AbortController();

  constructor(private readonly opts: LoopOptions) {}

  /** Resolves when every slot has stopped (after `drain`); rejects on an authentication error. */
  run(): Promise<void> {
    return Promise.all(Array.from({ length: this.opts.concurrency }, () => this.slot())).then(() => undefined);
  }

  /** Stops leasing; running steps finish and report. */
  drain(): void {
    this.draining = true;
    // An abandoned long poll may still take a lease on the server; it then expires and the
    // step is dispatched again. Waiting up to 25 s for every poll to return would be worse.
    this.polls.abort();
  }

  /** Kills every running step and gives its lease back (best effort). */
  async abortAll(): Promise<void> {
    this.drain();
    await Promise.all(
      [...this.running].map(async (r) => {
        r.stop("shutdown");
        try {
          await this.opts.client.release(r.lease.leaseId, r.lease.token, "runner shutting down");
        } catch {
          // The lease will expire on the server instead.
        }
      }),
    );
  }

  private async slot(): Promise<void> {
    let failures = 0;
    while (!this.draining) {
      let leases: Lease[];
      try {
        const res = await this.opts.client.lease(
          { runnerId: this.opts.runnerId, labels: this.opts.labels, max: 1, waitMs: this.opts.waitMs ?? 25_000 },
          this.polls.signal,
        );
        leases = res.leases;
        failures = 0;
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (this.draining) return;
        this.opts.log(`lease request failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, backoffMs(failures++)));
        continue;
      }
      // A lease that came back after draining began is run: the server already counts it as ours.
      for (let lease = leases[0]; lease; ) {
        lease = (await this.runOne(lease))[0];
      }
    }
  }

  private async runOne(lease: Lease): Promise<Lease[]> {
    const run = new StepRun(lease, {
      client: this.opts.client,
      log: this.opts.log,
      wantNext: () => (this.draining ? undefined : { runnerId: this.opts.runnerId, labels: this.opts.labels, max: 1 }),
    });
    this.running.add(run);
    this.opts.log(`${run.label}: leased`);
    try {
      return await run.execute();
    } finally {
      this.running.delete(run);
    }
  }
}
