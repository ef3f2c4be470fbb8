// One attempt of one step under its lease: prepare it on this host (step-setup.ts), run its
// process group (step-process.ts) while its lease is renewed (lease-renewal.ts), stop the group
// on timeout, cancel or a lost lease, then report (step-report.ts). This class decides the order
// and what a stop, a lost lease or the runner's abort means for each of those parts.
import type { Lease } from "../../src/shared/protocol.ts";
import type { LeaseLostError } from "./client.ts";
import { LeaseRenewal } from "./lease-renewal.ts";
import { killGroup } from "./process-group.ts";
import type { RunFiles } from "./run-files.ts";
import type { StepRunOptions } from "./step-options.ts";
import { notRun, type Outcome, succeeded } from "./step-outcome.ts";
import { runProcess } from "./step-process.ts";
import { report } from "./step-report.ts";
import { checkPreconditions, prepareStep } from "./step-setup.ts";
import { StepState } from "./step-state.ts";
import { trace } from "./trace.ts";

export type { StepRunOptions } from "./step-options.ts";

export class StepRun {
  readonly lease: Lease;
  /** When this runner took the step on (epoch ms). */
  readonly startedAt = Date.now();
  private readonly state: StepState;
  /** The heartbeats, from `execute` on; ended at completion, on a lost lease, on abort. */
  private renewal: LeaseRenewal | undefined;
  /** Ends everything that waits for the server (completion retries): on abort. */
  private readonly shutdown = new AbortController();

  constructor(lease: Lease, opts: StepRunOptions) {
    this.lease = lease;
    trace?.("leased", { lease: lease.leaseId });
    const own = withRunLog(lease, opts);
    const calls = opts.held ? { ...own, client: opts.held.calls(own.client), log: opts.held.log(own.log) } : own;
    this.state = new StepState(lease, calls, (err) => this.loseLease(err));
    // Run ahead under an offer: its output waits for the lease, or goes with its completion.
    opts.held?.holdLogs(this.state.shipper);
  }

  get label(): string {
    return this.state.label;
  }

  /** Runs the attempt to its end and reports it; returns the leases that came back with the completion. */
  async execute(): Promise<Lease[]> {
    const s = this.state;
    this.renewal = new LeaseRenewal(s, (err) => this.loseLease(err));
    // Aborted before it began: no heartbeat at all.
    if (s.aborted || s.lost) this.renewal.end();
    try {
      // Awaited only when there is something to wait for: a step without shell-expanded values
      // or preconditions reaches its process's start in the turn it was leased (or run ahead).
      const prepared = prepareStep(s);
      const shared = prepared instanceof Promise ? await prepared : prepared;
      const envError = typeof shared === "string" ? shared : undefined;
      const unmet =
        envError === undefined && s.lease.exec.preconditions?.length ? await checkPreconditions(s) : undefined;
      const outcome: Outcome =
        envError !== undefined
          ? notRun(envError)
          : unmet === undefined
            ? await runProcess(s)
            : { exitCode: null, signal: null, outputTruncated: false, preconditionUnmet: unmet };
      if (typeof shared === "object" && Object.keys(shared).length) outcome.env = shared;
      const ranToExit0 = envError === undefined && unmet === undefined && succeeded(outcome);
      // Before the log's last batch and the completion: the chain's next step need not wait for
      // them. (Told already as the process ended, unless a repeat condition was evaluated first.)
      if (ranToExit0) s.tellSucceeded();
      // Run ahead and not confirmed yet: its completion may take its output along.
      s.opts.held?.takeLogs(s.shipper);
      if (!s.lost && !s.aborted) await s.shipper.drain();
      if (s.aborted) return [];
      if (s.lost) {
        s.opts.log(`${this.label}: lease lost; result dropped (another attempt owns the step)`);
        return [];
      }
      this.renewal.end();
      return await report(s, outcome, this.shutdown.signal);
    } finally {
      s.closeOwnFiles();
      // A turn later: the lease loop starts the step this completion brought back first, so the
      // next step of a chain finds its run still active here, its log open and its folder made.
      if (s.files) setImmediate((files: RunFiles | undefined) => files?.release(this.lease), s.opts.runFiles);
      this.renewal.end();
    }
  }

  /** The runner is quitting: stop the group, stop shipping and reporting. */
  abort(): void {
    this.state.aborted = true;
    this.renewal?.end();
    this.shutdown.abort();
    this.state.shipper.stop();
    this.state.process?.stop();
  }

  /** A step started early that the server did not confirm: SIGKILL to its group at once, nothing reported. */
  discard(): void {
    this.abort();
    void this.state.process?.started.then((pid) => pid !== undefined && killGroup(pid, "SIGKILL"));
  }

  /** Settles once the step's process has exited (at once when it never started). */
  async exited(): Promise<void> {
    await this.state.process?.done;
  }

  /** Last resort of a forced shutdown: SIGKILL to the group without waiting for the grace period. */
  killNow(): void {
    if (this.state.process?.pid !== undefined) killGroup(this.state.process.pid, "SIGKILL");
  }

  private loseLease(err: LeaseLostError): void {
    const s = this.state;
    if (s.lost) return;
    s.lost = true;
    this.renewal?.end();
    s.shipper.stop();
    const running = !s.hasExited && s.process !== undefined;
    s.opts.log(
      `${this.label}: lease no longer current (${err.message})${running ? "; stopping its process group" : ""}`,
    );
    s.stop("lost");
  }
}

/** What the runner says about the step also goes to the run's log on this host (run-files.ts). */
function withRunLog(lease: Lease, opts: StepRunOptions): StepRunOptions {
  const files = opts.runFiles;
  if (!files) return opts;
  const log = (line: string) => {
    opts.log(line);
    files.note(lease, line);
  };
  return { ...opts, log };
}
