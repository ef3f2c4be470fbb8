// The runner's one lease loop: it asks /lease for as many leases as it has free slots (over its
// socket, or a long poll over HTTP) and starts each, reserving the slots a request in flight was
// promised. A finishing step asks for its successor in its completion call; a step whose lease
// offers the chain ahead runs it in its own slot from the moment it exits 0 (early-start.ts).
import { type Lease, MAX_LEASE_WAIT_MS, MAX_LEASES_PER_REQUEST } from "../../src/shared/protocol.ts";
import { AbortedError, AuthError, type Log, type RunnerClient } from "./client.ts";
import { HeldLease } from "./early-start.ts";
import { StepRun } from "./exec.ts";
import { startFleetReports } from "./fleet-report.ts";
import { LeaseReleases, RELEASE_ON_ABORT_WAIT_MS, RELEASE_WAIT_MS } from "./lease-release.ts";
import { type Backoff, DEFAULT_BACKOFF, sleep } from "./retries.ts";
import { type Launched, RunAhead } from "./run-ahead.ts";
import type { RunFiles } from "./run-files.ts";

export interface LoopOptions {
  client: RunnerClient;
  runnerId: string;
  labels: Record<string, string>;
  concurrency: number;
  log: Log;
  /** How long a lease request waits for work. */
  waitMs?: number;
  killGraceMs?: number;
  backoff?: Backoff;
  /** How often the runner reports itself to the fleet view. */
  reportIntervalMs?: number;
  /** The runner's token, which steps must never see (see exec.ts). */
  runnerToken?: string;
  /** "socket": lease calls over the runner's socket while it is open, else HTTP. Default: HTTP only. */
  transport?: "socket" | "http";
  /** The runs' files on this host (run-files.ts); none: steps get no DAG_RUN_*_FILE variables. */
  runFiles?: RunFiles;
  /** Start a chain's offered successor when its predecessor exits 0 (default: on). */
  earlyStart?: boolean;
  /** At most this many steps run ahead of the last one the server leased (default: as offered). */
  earlyStartDepth?: number;
}

export class LeaseLoop {
  private readonly running = new Map<StepRun, Promise<void>>();
  /** Steps started early and not confirmed yet: in their predecessor's slot, unknown to the server. */
  private readonly early: RunAhead;
  private readonly releases: LeaseReleases;
  /** Slots promised to requests in flight: the poll's `max`, and completions' extra `next` slots. */
  private reserved = 0;
  private draining = false;
  private readonly polls = new AbortController();
  private wake: (() => void) | undefined;
  private rejectRun: ((err: Error) => void) | undefined;

  constructor(private readonly opts: LoopOptions) {
    this.releases = new LeaseReleases(opts.client, opts.log);
    this.early = new RunAhead(opts.log, opts.runFiles);
  }

  get runningSteps(): number {
    return this.running.size;
  }

  /**
   * Resolves once `drain` was called and every running step has reported. Rejects with an
   * AuthError as soon as the server refuses the token: nothing can be reported after that.
   */
  run(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.rejectRun = reject;
      this.loop().then(resolve, reject);
    });
  }

  /** Stops leasing; running steps finish and report. */
  drain(): void {
    this.draining = true;
    // Safe to cut a long poll short: the server takes no lease for a request that went away.
    this.polls.abort();
    this.wakeUp();
  }

  /**
   * Forced shutdown: SIGTERM to every running group, SIGKILL to what is left after `graceMs`,
   * then give the leases back so the server can dispatch them again at once (best effort).
   */
  async abort(opts: { graceMs: number; release: boolean }): Promise<void> {
    this.drain();
    this.early.discardAll("the runner is stopping");
    const runs = [...this.running.keys()];
    for (const run of runs) run.abort();
    await Promise.race([Promise.all(runs.map((run) => run.exited())), sleep(opts.graceMs)]);
    for (const run of runs) run.killNow();
    if (opts.release)
      await Promise.all(
        runs.map((run) => this.releases.giveBack(run.lease, "runner stopped", RELEASE_ON_ABORT_WAIT_MS)),
      );
  }

  private async loop(): Promise<void> {
    const stopReports = startFleetReports({
      client: this.opts.client,
      log: this.opts.log,
      intervalMs: this.opts.reportIntervalMs,
      // A revoked token is noticed here within one report even while the lease poll waits.
      onAuthError: (err) => this.fail(err),
      snapshot: () => ({
        runnerId: this.opts.runnerId,
        labels: this.opts.labels,
        totalSlots: this.opts.concurrency,
        running: [...this.running.keys()].map(({ lease, startedAt }) => ({
          runId: lease.runId,
          dagName: lease.dagName,
          stepName: lease.stepName,
          startedAt,
        })),
      }),
    });
    if (this.opts.transport === "socket") {
      const runner = { runnerId: this.opts.runnerId, labels: this.opts.labels };
      // The first lease request goes over the socket when it opens at once.
      await this.opts.client.openSocket(runner, (err) => this.fail(err));
    }
    try {
      await this.leaseUntilDrained();
    } finally {
      stopReports();
      this.opts.client.closeSocket();
    }
  }

  private async leaseUntilDrained(): Promise<void> {
    let failures = 0;
    while (!this.draining) {
      const max = Math.min(this.freeSlots(), MAX_LEASES_PER_REQUEST);
      if (max <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      this.reserved += max;
      let leases: Lease[] = [];
      try {
        const req = { runnerId: this.opts.runnerId, labels: this.opts.labels, max, waitMs: this.waitMs() };
        leases = (await this.opts.client.lease(req, this.polls.signal)).leases;
        failures = 0;
      } catch (err) {
        if (err instanceof AuthError) return this.fail(err);
        if (!(err instanceof AbortedError)) {
          // A 4xx to a lease request will not go away by asking again soon; keep asking slowly.
          this.opts.log(`lease request refused: ${(err as Error).message}`);
          await sleep((this.opts.backoff ?? DEFAULT_BACKOFF).maxMs * Math.min(++failures, 3), this.polls.signal);
        }
      } finally {
        this.reserved -= max;
      }
      this.accept(leases);
    }
    // A reply that comes while draining may confirm a step started early: it runs to its end too.
    for (;;) {
      const pending = [...this.running.values(), ...this.early.pending()];
      if (pending.length === 0) break;
      await Promise.all(pending);
    }
    await this.releases.settled();
  }

  private waitMs(): number {
    return Math.min(this.opts.waitMs ?? MAX_LEASE_WAIT_MS, MAX_LEASE_WAIT_MS);
  }

  private freeSlots(): number {
    return this.opts.concurrency - this.running.size - this.reserved;
  }

  /**
   * Starts the leases a reply brought. `successor`: the step started early when the step this
   * reply answers exited 0; the reply confirms it (a lease of the offered id, attempt and spec)
   * or it is discarded.
   */
  private accept(leases: Lease[], successor?: Launched): void {
    let rest = leases;
    // Not discarded meanwhile (a forced shutdown discards every step started early).
    if (successor?.held && this.early.has(successor)) {
      const found = successor.held.match(leases);
      if ("real" in found) {
        rest = leases.filter((l) => l !== found.real);
        this.early.delete(successor);
        this.running.set(successor.run, successor.finished);
        this.opts.log(`${successor.run.label}: leased by ${this.opts.runnerId} (started early)`);
        successor.held.confirm(found.real);
      } else if (!successor.held.confirmed && !successor.held.sentOffered) {
        // (Sent in the same call without a token, its own answer decides.) Before a lease of the
        // same id with another spec starts below, in files of the same names.
        this.early.discard(successor, found.why);
      }
    }
    for (const lease of rest) {
      // A lease that arrives after draining began (or beyond our slots) is handed back unstarted.
      if (this.draining) void this.releases.giveBack(lease, "runner draining", RELEASE_WAIT_MS);
      else if (this.freeSlots() <= 0) void this.releases.giveBack(lease, "runner has no free slot", RELEASE_WAIT_MS);
      else this.start(lease);
    }
  }

  private start(lease: Lease): void {
    const step = this.launch(lease);
    this.opts.log(`${step.run.label}: leased by ${this.opts.runnerId}`);
    this.running.set(step.run, step.finished);
  }

  /** The offered successor of `from`, started in its slot; it waits in `early` for the reply. */
  private startEarly(from: Lease, fromHeld?: HeldLease): Launched | undefined {
    if (!from.successor || this.opts.earlyStart === false || this.draining) return undefined;
    const depth = fromHeld && !fromHeld.confirmed ? fromHeld.depth + 1 : 1;
    const held = new HeldLease(from, from.successor, depth);
    const step = this.launch(held.lease, held);
    this.early.add(step);
    return step;
  }

  private launch(lease: Lease, held?: HeldLease): Launched {
    let extra = 0;
    // The step this one's exit 0 started early, and whether it exited 0 (a step started early
    // may exit before its own lease, and so its own offer, is confirmed).
    let successor: Launched | undefined;
    let exited0 = false;
    // Set below, before the step can end.
    let step: Launched | undefined;
    const startSuccessor = () => {
      if (successor || !exited0) return;
      // A step not confirmed yet goes on down the chain its offer holds, within the depth.
      const depth = this.opts.earlyStartDepth ?? Number.POSITIVE_INFINITY;
      if (held && !held.confirmed && (!lease.successor || held.depth >= depth)) return;
      successor = this.startEarly(lease, held);
    };
    const run = new StepRun(lease, {
      client: this.opts.client,
      log: this.opts.log,
      runFiles: this.opts.runFiles,
      killGraceMs: this.opts.killGraceMs,
      backoff: this.opts.backoff,
      runnerToken: this.opts.runnerToken,
      held,
      onAuthError: (err) => this.fail(err),
      onSucceeded: () => {
        exited0 = true;
        startSuccessor();
      },
      askNext: () => {
        // A successor already running must get its lease, draining or not.
        if (this.draining && !successor) return undefined;
        // This step's own slot, plus any free slot no request in flight has claimed.
        extra = this.draining ? 0 : Math.max(0, this.freeSlots());
        this.reserved += extra;
        return {
          runnerId: this.opts.runnerId,
          labels: this.opts.labels,
          max: Math.min(MAX_LEASES_PER_REQUEST, 1 + extra),
        };
      },
    });
    const finished = run
      .execute()
      .catch((err: unknown) => {
        this.opts.log(`${run.label}: runner error: ${String(err)}`);
        return [];
      })
      .then((next) => {
        this.running.delete(run);
        this.reserved -= extra;
        if (step) this.early.ended(step, this.opts.runnerId);
        this.accept(next, successor);
        this.wakeUp();
      });
    step = {
      run,
      finished,
      held,
      get next() {
        return successor;
      },
    };
    // Confirmed after it exited 0: its own successor starts now, with the lease that offers it.
    held?.onConfirmed(startSuccessor);
    return step;
  }

  private fail(err: AuthError): void {
    this.draining = true;
    this.polls.abort();
    this.wakeUp();
    this.rejectRun?.(err);
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
