// What one attempt of a step knows about itself while it runs, shared by the parts of its way
// (exec.ts drives them): preparing the host (step-setup.ts), the process (step-process.ts), the
// lease's renewal (lease-renewal.ts) and the report (step-report.ts). Only these flags say
// whether the step is stopping and why, so every part reads the same answer.
import type { Lease } from "../../src/shared/protocol.ts";
import { AuthError, type LeaseLostError } from "./client.ts";
import { LogShipper } from "./log-shipper.ts";
import { Masker } from "./mask.ts";
import { closeQuietly, type OwnFile } from "./output-files.ts";
import type { StepProcess } from "./process-group.ts";
import type { StepFilePaths } from "./run-files.ts";
import type { StepRunOptions } from "./step-options.ts";

export type StopReason = "timeout" | "cancel" | "lost";

export class StepState {
  /** Masks the runner's token and the step's secret values (once resolved) in all it sends. */
  masker: Masker;
  /** This attempt's files on this host, once created. */
  files: StepFilePaths | undefined;
  /** Their descriptors, open from their creation until the process's output is written. */
  private ownFiles: OwnFile[] = [];
  process: StepProcess | undefined;
  /** The first reason is the one reported: a step that timed out and was then cancelled timed out. */
  stopReason: StopReason | undefined;
  hasExited = false;
  /** `onSucceeded` was called: the chain's next step may run. */
  private toldSucceeded = false;
  /** The server gave the lease to another attempt: nothing more is sent. */
  lost = false;
  /** The runner is quitting (or discards a step started early): nothing more is sent. */
  aborted = false;
  readonly shipper: LogShipper;

  constructor(
    readonly lease: Lease,
    readonly opts: StepRunOptions,
    onLeaseLost: (err: LeaseLostError) => void,
  ) {
    this.masker = new Masker(this.hidden());
    this.shipper = new LogShipper({
      client: opts.client,
      leaseId: lease.leaseId,
      token: lease.token,
      log: opts.log,
      backoff: opts.backoff,
      onFatal: (err) => (err instanceof AuthError ? opts.onAuthError?.(err) : onLeaseLost(err)),
      // The step writes no faster than its output is shipped.
      onPressure: (pause) => (pause ? this.process?.pause() : this.process?.resume()),
    });
  }

  get label(): string {
    const { leaseId, dagName, stepName, attempt } = this.lease;
    return `${dagName}/${stepName}#${attempt} (lease ${leaseId})`;
  }

  /** Aborted, or stopped for a reason: nothing more of the step should start. */
  get stopping(): boolean {
    return this.aborted || this.stopReason !== undefined;
  }

  /** The values every mask hides, whatever the step's own secrets. */
  hidden(): string[] {
    return this.opts.runnerToken ? [this.opts.runnerToken] : [];
  }

  /** A note of the runner's in the step's stderr log (`[dagflare runner: ...]`), secrets masked. */
  note(text: string): void {
    this.shipper.push("stderr", `[dagflare runner: ${this.masker.text(text)}]\n`);
  }

  /** The attempt's files, created (and opened) once (run-files.ts). */
  setFiles(paths: StepFilePaths, fds: { stdout: number; stderr: number }): void {
    this.files = paths;
    this.ownFiles = [
      { stream: "stdout", fd: fds.stdout, file: paths.stdout },
      { stream: "stderr", fd: fds.stderr, file: paths.stderr },
    ];
  }

  /** Hands the attempt's open files to the one who writes the output and closes them. */
  takeOwnFiles(): OwnFile[] {
    const files = this.ownFiles;
    this.ownFiles = [];
    return files;
  }

  /** Closes the attempt's files if no process took them (the step ended before it ran). */
  closeOwnFiles(): void {
    for (const { fd } of this.takeOwnFiles()) closeQuietly(fd);
  }

  /**
   * The step exited 0 with its output in its files: tells the lease loop once (a chain's next
   * step, run ahead, starts), unless the step is stopping or its lease is lost.
   */
  tellSucceeded(): void {
    if (this.toldSucceeded || this.lost || this.stopping) return;
    this.toldSucceeded = true;
    this.opts.onSucceeded?.();
  }

  /** Stops the step's process group (if it still runs), remembering the first reason. */
  stop(reason: StopReason): void {
    if (this.hasExited) return;
    this.stopReason ??= reason;
    this.process?.stop();
  }
}
