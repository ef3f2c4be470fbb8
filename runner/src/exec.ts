// One attempt of one step under its lease: start the process group, ship its output, renew the
// lease at a fraction of its TTL, stop the group on timeout, cancel or a lost lease, then report.
import { type CompleteRequest, envBytes, type Lease, MAX_REPORTED_ENV_BYTES } from "../../src/shared/protocol.ts";
import { AbortedError, AuthError, LeaseLostError, type Log, RejectedError } from "./client.ts";
import { evaluateCondition, expandWithShell, OutputMatcher } from "./conditions.ts";
import type { HeldLease, LeaseCalls } from "./early-start.ts";
import { loadDotenv, outputFilePaths, resolveDir, resolveSecrets } from "./host-setup.ts";
import { LogShipper } from "./log-shipper.ts";
import { Masker } from "./mask.ts";
import { OutputCapture } from "./output-capture.ts";
import { expandShellFiles, OutputFiles } from "./output-files.ts";
import { killGroup, type ProcessResult, type StepProcess, startProcess, workingDirProblem } from "./process-group.ts";
import { type Backoff, backoffMs, DEFAULT_BACKOFF, sleep } from "./retries.ts";
import type { RunFiles, StepFilePaths } from "./run-files.ts";
import { trace } from "./trace.ts";

/** The first heartbeat confirms the lease: the server takes back leases unconfirmed after 5 s. */
const FIRST_HEARTBEAT_MS = 500;
/** A heartbeat slower than this is abandoned and tried again. */
const MAX_HEARTBEAT_WAIT_MS = 10_000;
/** Floor of the renewal interval, so a tiny TTL cannot make the runner spin. */
const MIN_HEARTBEAT_INTERVAL_MS = 50;
/** Given when heartbeats end, so that no AbortError (a DOMException and its stack) is built per step. */
const RENEWALS_ENDED = "renewals ended";

export interface StepRunOptions {
  client: LeaseCalls;
  log: Log;
  /** A step started early (early-start.ts): its calls and lines wait until its lease is confirmed. */
  held?: HeldLease;
  /** The process exited 0 and its output is collected; the completion is about to be sent. */
  onSucceeded?: () => void;
  /** Asked when the completion goes out: a `next` request rides on it when this returns one. */
  askNext?: () => CompleteRequest["next"];
  /** The server refused the token mid-step: the runner as a whole cannot go on. */
  onAuthError?: (err: AuthError) => void;
  killGraceMs?: number;
  backoff?: Backoff;
  /** The runner's own token: masked in all that is sent, and never handed to a step. */
  runnerToken?: string;
  /** The runs' files on this host: the step's DAG_RUN_*_FILE variables name them. */
  runFiles?: RunFiles;
}

type Outcome = ProcessResult & {
  output?: string;
  /** The `reportEnv` values, evaluated here once for the whole run (or step). */
  env?: Record<string, string>;
  outputTruncated: boolean;
  preconditionUnmet?: string;
  repeatConditionMet?: boolean;
  outputMatched?: boolean;
};
type StopReason = "timeout" | "cancel" | "lost";

export class StepRun {
  readonly lease: Lease;
  /** When this runner took the step on (epoch ms). */
  readonly startedAt = Date.now();
  private readonly shipper: LogShipper;
  private process: StepProcess | undefined;
  private stopReason: StopReason | undefined;
  private hasExited = false;
  /** Masks the runner's token and the step's secret values (once resolved) in all it sends. */
  private masker: Masker;
  private lost = false;
  private aborted = false;
  /** Ends the heartbeats: at completion, on a lost lease, on abort. */
  private readonly renewals = new AbortController();
  /** Ends everything that waits for the server (completion retries): on abort. */
  private readonly shutdown = new AbortController();
  /** This attempt's files on this host, once created. */
  private files: StepFilePaths | undefined;

  private readonly opts: StepRunOptions;

  constructor(lease: Lease, opts: StepRunOptions) {
    this.lease = lease;
    trace?.("leased", { lease: lease.leaseId });
    const own = withRunLog(lease, opts);
    this.opts = opts.held ? { ...own, client: opts.held.calls(own.client), log: opts.held.log(own.log) } : own;
    this.masker = new Masker(this.hidden());
    this.shipper = new LogShipper({
      client: this.opts.client,
      leaseId: lease.leaseId,
      token: lease.token,
      log: this.opts.log,
      backoff: opts.backoff,
      onFatal: (err) => (err instanceof AuthError ? this.opts.onAuthError?.(err) : this.loseLease(err)),
      // The step writes no faster than its output is shipped.
      onPressure: (pause) => (pause ? this.process?.pause() : this.process?.resume()),
    });
    opts.held?.holdLogs(this.shipper);
  }

  get label(): string {
    const { leaseId, dagName, stepName, attempt } = this.lease;
    return `${dagName}/${stepName}#${attempt} (lease ${leaseId})`;
  }

  /** Runs the attempt to its end and reports it; returns the leases that came back with the completion. */
  async execute(): Promise<Lease[]> {
    const heartbeats = this.heartbeats();
    try {
      const shared =
        this.prepareHost() ?? (await this.expandShellEnv()) ?? (await this.expandShellFiles()) ?? this.sharedEnv();
      const envError = typeof shared === "string" ? shared : undefined;
      const unmet = envError === undefined ? await this.checkPreconditions() : undefined;
      const outcome: Outcome =
        envError !== undefined
          ? { exitCode: null, signal: null, outputTruncated: false, error: envError }
          : unmet === undefined
            ? await this.runProcess()
            : { exitCode: null, signal: null, outputTruncated: false, preconditionUnmet: unmet };
      if (typeof shared === "object" && Object.keys(shared).length) outcome.env = shared;
      const ranToExit0 = envError === undefined && unmet === undefined && succeeded(outcome);
      // Before the log's last batch and the completion: the chain's next step need not wait for them.
      if (ranToExit0 && !this.lost && !this.aborted && !this.stopReason) this.opts.onSucceeded?.();
      // Run ahead and not confirmed yet: its completion may take its output along.
      this.opts.held?.takeLogs(this.shipper);
      if (!this.lost && !this.aborted) await this.shipper.drain();
      if (this.aborted) return [];
      if (this.lost) {
        this.opts.log(`${this.label}: lease lost; result dropped (another attempt owns the step)`);
        return [];
      }
      this.renewals.abort(RENEWALS_ENDED);
      return await this.report(outcome);
    } finally {
      // A turn later: the lease loop starts the step this completion brought back first, so the
      // next step of a chain finds its run still active here, its log open and its folder made.
      if (this.files) setImmediate((files: RunFiles | undefined) => files?.release(this.lease), this.opts.runFiles);
      // Not awaited: a heartbeat still on the wire is ignored once renewals have ended.
      this.renewals.abort(RENEWALS_ENDED);
      void heartbeats;
    }
  }

  /** The runner is quitting: stop the group, stop shipping and reporting. */
  abort(): void {
    this.aborted = true;
    this.renewals.abort(RENEWALS_ENDED);
    this.shutdown.abort();
    this.shipper.stop();
    this.process?.stop();
  }

  /** A step started early that the server did not confirm: SIGKILL to its group at once, nothing reported. */
  discard(): void {
    this.abort();
    void this.process?.started.then((pid) => pid !== undefined && killGroup(pid, "SIGKILL"));
  }

  /** Settles once the step's process has exited (at once when it never started). */
  async exited(): Promise<void> {
    await this.process?.done;
  }

  /** Last resort of a forced shutdown: SIGKILL to the group without waiting for the grace period. */
  killNow(): void {
    if (this.process?.pid !== undefined) killGroup(this.process.pid, "SIGKILL");
  }

  private stop(reason: StopReason): void {
    if (this.hasExited) return;
    // The first reason is the one reported: a step that timed out and was then cancelled timed out.
    this.stopReason ??= reason;
    this.process?.stop();
  }

  private loseLease(err: LeaseLostError): void {
    if (this.lost) return;
    this.lost = true;
    this.renewals.abort(RENEWALS_ENDED);
    this.shipper.stop();
    const running = !this.hasExited && this.process !== undefined;
    this.opts.log(
      `${this.label}: lease no longer current (${err.message})${running ? "; stopping its process group" : ""}`,
    );
    this.stop("lost");
  }

  private hidden(): string[] {
    return this.opts.runnerToken ? [this.opts.runnerToken] : [];
  }

  /** The step's setup on this host (see host-setup.ts); an error is noted and ends the step. */
  private prepareHost(): string | undefined {
    const { exec } = this.lease;
    resolveDir(exec);
    const error =
      this.createFiles() ??
      loadDotenv(exec, (text) => this.note(text)) ??
      resolveSecrets(exec, (values) => (this.masker = new Masker([...values, ...this.hidden()]))) ??
      this.tokenInEnv();
    if (error !== undefined) this.note(error);
    return error;
  }

  /** The attempt's files on this host, named to the step as Dagu names them (run-files.ts). */
  private createFiles(): string | undefined {
    const created = this.opts.runFiles?.create(this.lease);
    if (created === undefined) return undefined;
    if ("error" in created) return created.error;
    this.files = created;
    Object.assign(this.lease.exec.env, {
      DAG_RUN_LOG_FILE: created.runLog,
      DAG_RUN_STEP_STDOUT_FILE: created.stdout,
      DAG_RUN_STEP_STDERR_FILE: created.stderr,
    });
    return undefined;
  }

  /** A .env file or a secret file read with the runner's rights must not hand the step its token. */
  private tokenInEnv(): string | undefined {
    const token = this.opts.runnerToken;
    if (!token) return undefined;
    const name = Object.entries(this.lease.exec.env).find(([, v]) => v.includes(token))?.[0];
    return name === undefined ? undefined : `env ${name} would hold the runner's own token; refused`;
  }

  /** A note of the runner's in the step's stderr log (`[dagflare runner: ...]`), secrets masked. */
  private note(text: string): void {
    this.shipper.push("stderr", `[dagflare runner: ${this.masker.text(text)}]\n`);
  }

  /** Expands env values holding backticks with the step's shell, in order; an error ends the step. */
  private async expandShellEnv(): Promise<string | undefined> {
    const { exec } = this.lease;
    for (const key of exec.shellEnv ?? []) {
      const template = exec.env[key];
      if (template === undefined) continue;
      const r = await expandWithShell(exec, template);
      if ("error" in r) {
        const error = `env ${key}: command substitution failed (${r.error})`;
        this.note(error);
        return error;
      }
      exec.env[key] = r.value;
    }
    return undefined;
  }

  /** The stdout/stderr paths written with backticks, expanded (output-files.ts); an error ends the step. */
  private async expandShellFiles(): Promise<string | undefined> {
    const error = await expandShellFiles(this.lease.exec);
    if (error !== undefined) this.note(error);
    return error;
  }

  /**
   * The values the server asked back (`reportEnv`), evaluated here once for the run or the step;
   * an error (a string) when they are too large to share. A value that holds a secret's value or
   * the runner's token stays on this host, and each attempt evaluates it again.
   */
  private sharedEnv(): Record<string, string> | string {
    const values: Record<string, string> = {};
    for (const key of this.lease.exec.reportEnv ?? []) {
      const value = this.lease.exec.env[key];
      if (value === undefined) continue;
      if (this.masker.text(value) !== value) {
        this.note(`env ${key} holds a secret's value; it is evaluated again by each step, not shared`);
        continue;
      }
      values[key] = value;
    }
    const bytes = envBytes(values);
    if (bytes <= MAX_REPORTED_ENV_BYTES) return values;
    const error = `env values evaluated for the run come to ${bytes} bytes, over the limit of ${MAX_REPORTED_ENV_BYTES} bytes`;
    this.note(error);
    return error;
  }

  /** The first unmet precondition, described; undefined when all hold. */
  private async checkPreconditions(): Promise<string | undefined> {
    for (const c of this.lease.exec.preconditions ?? []) {
      if (this.aborted || this.stopReason) return undefined;
      const r = await evaluateCondition(this.lease.exec, c);
      this.note(`precondition ${r.met ? "met" : "not met"}: ${r.detail}`);
      if (!r.met) {
        this.opts.log(`${this.label}: precondition not met (${r.detail}); skipping`);
        return r.detail;
      }
    }
    return undefined;
  }

  private async runProcess(): Promise<Outcome> {
    // Discarded (or the runner stopping) while its env was prepared: it never starts.
    if (this.aborted) return { exitCode: null, signal: null, outputTruncated: false, error: "not started" };
    const exec = {
      ...this.lease.exec,
      // Which attempt this process is, for a step that wants to tag what it does.
      env: {
        ...this.lease.exec.env,
        DAGFLARE_ATTEMPT: String(this.lease.attempt),
        DAGFLARE_LEASE_ID: this.lease.leaseId,
      },
    };
    // A missing directory is the problem to report, not the files that cannot be opened in it.
    const dirProblem = workingDirProblem(exec.dir);
    const files: OutputFiles | { error: string } = dirProblem
      ? { error: dirProblem }
      : OutputFiles.open(outputFilePaths(exec), this.files);
    if ("error" in files) {
      this.note(files.error);
      return { exitCode: null, signal: null, outputTruncated: false, error: files.error };
    }
    const capture = exec.output === undefined ? undefined : new OutputCapture(exec.maxOutputBytes);
    const matcher = exec.outputPatterns?.length ? new OutputMatcher(exec.outputPatterns) : undefined;
    // Whatever leaves the process goes through the mask first: the log, the files, the output.
    const sink = (stream: "stdout" | "stderr") => (text: string) => {
      this.shipper.push(stream, text);
      const failed = files.write(stream, text);
      if (failed) this.note(failed);
      if (stream === "stdout") capture?.append(text);
    };
    const masked = { stdout: this.masker.stream(sink("stdout")), stderr: this.masker.stream(sink("stderr")) };
    trace?.("spawn", { lease: this.lease.leaseId });
    const proc = startProcess(exec, {
      killGraceMs: exec.cleanUpSec !== undefined ? exec.cleanUpSec * 1000 : this.opts.killGraceMs,
      stopSignal: exec.signalOnStop as NodeJS.Signals | undefined,
      dirChecked: true,
      onOutput: (stream, text) => {
        matcher?.push(stream, text);
        masked[stream].push(text);
      },
    });
    this.process = proc;
    void proc.started.then((pid) => {
      if (pid === undefined) return;
      trace?.("pid", { lease: this.lease.leaseId, pid });
      this.opts.log(`${this.label}: started pid ${pid}`);
    });
    if (this.stopReason || this.aborted) proc.stop();
    // Set before the pid is known (the fork helper reports it a moment later): a stop waits for it.
    const timeout = exec.timeoutSec
      ? setTimeout(() => {
          this.opts.log(`${this.label}: timed out after ${exec.timeoutSec} s; stopping its process group`);
          this.stop("timeout");
        }, exec.timeoutSec * 1000)
      : undefined;
    const result = await proc.done;
    trace?.("closed", { lease: this.lease.leaseId });
    masked.stdout.end();
    masked.stderr.end();
    files.close();
    clearTimeout(timeout);
    this.hasExited = true;
    this.opts.log(`${this.label}: ${describeExit(result)}`);
    if (capture?.truncated) {
      this.note(`output ${exec.output} cut at ${exec.maxOutputBytes} bytes`);
    }
    matcher?.end();
    const outcome: Outcome = { ...result, output: capture?.value, outputTruncated: capture?.truncated ?? false };
    if (matcher) outcome.outputMatched = matcher.matched;
    if (exec.repeatCondition && !this.stopReason && !this.aborted && result.error === undefined) {
      // The condition reads the step's own output as this execution left it (Dagu reloads it).
      const env = exec.output !== undefined && outcome.output !== undefined ? { [exec.output]: outcome.output } : {};
      const r = await evaluateCondition({ ...exec, env: { ...exec.env, ...env } }, exec.repeatCondition);
      this.note(`repeat condition ${r.met ? "holds" : "does not hold"}: ${r.detail}`);
      outcome.repeatConditionMet = r.met;
    }
    return outcome;
  }

  /** Renews the lease at a third of its TTL (or the server's interval, when shorter) until ended. */
  private async heartbeats(): Promise<void> {
    const { leaseId, token } = this.lease;
    const signal = this.renewals.signal;
    let intervalMs = this.renewalIntervalMs(this.lease.ttlMs);
    let delayMs = Math.min(FIRST_HEARTBEAT_MS, intervalMs);
    let expiresAt = Date.now() + this.lease.ttlMs;
    let failures = 0;
    for (;;) {
      await sleep(delayMs, signal);
      if (signal.aborted) return;
      try {
        const res = await this.opts.client.heartbeat(leaseId, token, Math.min(MAX_HEARTBEAT_WAIT_MS, intervalMs));
        if (signal.aborted) return;
        failures = 0;
        expiresAt = Date.now() + res.ttlMs;
        intervalMs = this.renewalIntervalMs(res.ttlMs);
        delayMs = intervalMs;
        if (res.cancel && !this.hasExited && this.stopReason === undefined) {
          this.opts.log(`${this.label}: cancelled by the server; stopping its process group`);
          this.stop("cancel");
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof LeaseLostError) return this.loseLease(err);
        if (err instanceof AuthError) return this.opts.onAuthError?.(err);
        failures++;
        // Sooner than the interval while failing, so one lost request does not cost the lease.
        delayMs = Math.min(intervalMs, backoffMs(failures, this.opts.backoff ?? DEFAULT_BACKOFF));
        if (failures === 1 && Date.now() > expiresAt) {
          this.opts.log(`${this.label}: lease not renewed within its TTL; the server may have given the step away`);
        }
      }
    }
  }

  private renewalIntervalMs(ttlMs: number): number {
    return Math.max(MIN_HEARTBEAT_INTERVAL_MS, Math.min(this.lease.heartbeatIntervalMs, Math.floor(ttlMs / 3)));
  }

  private async report(o: Outcome): Promise<Lease[]> {
    const req: CompleteRequest = {
      token: this.lease.token,
      exitCode: o.exitCode,
      signal: o.signal,
      timedOut: this.stopReason === "timeout",
      cancelled: this.stopReason === "cancel",
      outputTruncated: o.outputTruncated,
      lastLogSeq: this.shipper.lastSeq,
      droppedLogBytes: this.shipper.droppedLogBytes,
    };
    if (o.error !== undefined) req.error = this.masker.text(o.error);
    if (o.output !== undefined) req.output = o.output;
    if (o.env !== undefined) req.env = o.env;
    if (o.preconditionUnmet !== undefined) req.preconditionUnmet = this.masker.text(o.preconditionUnmet);
    if (o.repeatConditionMet !== undefined) req.repeatConditionMet = o.repeatConditionMet;
    if (o.outputMatched !== undefined) req.outputMatched = o.outputMatched;
    if (o.startedAt !== undefined) req.processStartedAt = o.startedAt;
    if (o.exitedAt !== undefined) req.processExitedAt = o.exitedAt;
    if (this.files) {
      req.stdoutPath = this.masker.text(this.files.stdout);
      req.stderrPath = this.masker.text(this.files.stderr);
    }
    const next = this.opts.askNext?.();
    if (next) req.next = next;
    try {
      const res = await this.completeOrExplain(req);
      this.opts.log(`${this.label}: completion ${res.accepted ? "accepted" : "already recorded"}`);
      return res.next;
    } catch (err) {
      if (err instanceof AuthError) this.opts.onAuthError?.(err);
      else if (err instanceof LeaseLostError)
        this.opts.log(`${this.label}: completion refused, lease lost (${err.message})`);
      else if (!(err instanceof AbortedError))
        this.opts.log(`${this.label}: completion refused: ${(err as Error).message}`);
      return [];
    }
  }
  /**
   * A result the server refuses as it is (a 4xx other than 409: too large, malformed) would
   * leave the step running until its lease expires, and then run it again. It is reported once
   * more as a failure that says why, without the parts the server refused.
   */
  private async completeOrExplain(req: CompleteRequest) {
    try {
      return await this.opts.client.complete(this.lease.leaseId, req, this.shutdown.signal, this.prefer());
    } catch (err) {
      if (!(err instanceof RejectedError)) throw err;
      this.opts.log(`${this.label}: result refused (${err.message}); reporting the step as failed`);
      const { token, lastLogSeq, droppedLogBytes, next } = req;
      const error = `the server refused this step's result: ${err.message}`;
      const failed: CompleteRequest = { token, exitCode: null, error, lastLogSeq, droppedLogBytes };
      if (next) failed.next = next;
      return await this.opts.client.complete(this.lease.leaseId, failed, this.shutdown.signal, this.prefer());
    }
  }

  /** The lease the completion's `next` should hold: the successor this lease offered. */
  private prefer(): string | undefined {
    return this.lease.successor?.leaseId;
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

function succeeded(o: Outcome): boolean {
  return o.exitCode === 0 && o.signal === null && o.error === undefined;
}

function describeExit(r: ProcessResult): string {
  if (r.error !== undefined) return `could not run: ${r.error}`;
  return r.signal ? `exited by ${r.signal}` : `exited with ${r.exitCode}`;
}
