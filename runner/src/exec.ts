// One attempt of one step: spawn it in its own process group, stream its output, heartbeat the
// lease, enforce the timeout, kill the group on cancel, then report the outcome.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CompleteRequest, Lease } from "../../src/protocol.ts";
import { backoffMs, LeaseLostError, type RunnerClient } from "./client.ts";
import { LogShipper } from "./log-shipper.ts";

/** Time between SIGTERM and SIGKILL when a step is stopped or timed out. */
export const KILL_GRACE_MS = 5_000;
/** When the first heartbeat goes out, well inside the server's confirmation window. */
const FIRST_HEARTBEAT_MS = 500;
/** How long to wait for output pipes to close after the process exited (a background child may hold them). */
const PIPE_CLOSE_WAIT_MS = 2_000;

export interface Outcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  error?: string;
  output?: string;
  outputTruncated: boolean;
}

export interface StepRunOptions {
  client: RunnerClient;
  log: (line: string) => void;
  /** Asked when the step is done: a `next` request rides on the completion when it returns one. */
  wantNext?: () => CompleteRequest["next"];
}

/** The argv to spawn and the temp dir to remove afterwards. */
export function commandLine(exec: Lease["exec"]): { file: string; args: string[]; tempDir?: string } {
  const [shell, ...shellArgs] = exec.shell as [string, ...string[]];
  if (exec.script === undefined) {
    return { file: shell, args: [...shellArgs, "-c", exec.command ?? "", "dagflare", ...exec.args] };
  }
  const tempDir = mkdtempSync(path.join(tmpdir(), "dagflare-step-"));
  const scriptPath = path.join(tempDir, "script");
  writeFileSync(scriptPath, exec.script, { mode: 0o700 });
  if (exec.command !== undefined) {
    // `command` names the interpreter of the script (e.g. python3): run through the shell.
    return { file: shell, args: [...shellArgs, "-c", `${exec.command} "$0" "$@"`, scriptPath, ...exec.args], tempDir };
  }
  return { file: shell, args: [...shellArgs, scriptPath, ...exec.args], tempDir };
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

export class StepRun {
  readonly lease: Lease;
  private child: ChildProcess | undefined;
  private readonly shipper: LogShipper;
  private cancelled = false;
  private timedOut = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    lease: Lease,
    private readonly opts: StepRunOptions,
  ) {
    this.lease = lease;
    this.shipper = new LogShipper(opts.client, lease.leaseId, lease.token);
  }

  get label(): string {
    return `${this.lease.dagName}/${this.lease.runId} step ${this.lease.stepName} (attempt ${this.lease.attempt})`;
  }

  /** Kills the process group: SIGTERM, then SIGKILL after the grace period. */
  stop(reason: "cancel" | "timeout" | "lost" | "shutdown"): void {
    if (reason === "cancel") this.cancelled = true;
    if (reason === "timeout") this.timedOut = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, reason === "lost" ? "SIGKILL" : "SIGTERM");
    this.killTimer ??= setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS);
  }

  /** Runs the attempt to its end and reports it; returns leases handed back with the completion. */
  async execute(): Promise<Lease[]> {
    const { exec } = this.lease;
    // The first heartbeat confirms the lease (the server takes back unconfirmed ones); a step
    // that ends sooner is confirmed by its completion and never needs one.
    const first = setTimeout(() => void this.beat(), Math.min(FIRST_HEARTBEAT_MS, this.lease.heartbeatIntervalMs));
    const heartbeat = setInterval(() => void this.beat(), this.lease.heartbeatIntervalMs);
    let outcome: Outcome;
    try {
      outcome = await this.spawnAndWait(exec);
    } finally {
      clearTimeout(first);
      clearInterval(heartbeat);
      clearTimeout(this.killTimer);
    }
    await this.shipper.drain((n) => backoffMs(n));
    if (this.shipper.lost) {
      this.opts.log(`${this.label}: lease lost; result discarded`);
      return [];
    }
    return this.report(outcome);
  }

  private async spawnAndWait(exec: Lease["exec"]): Promise<Outcome> {
    const base: Outcome = { exitCode: null, signal: null, timedOut: false, cancelled: false, outputTruncated: false };
    const cwd = exec.dir ? path.resolve(exec.dir) : process.cwd();
    try {
      if (!statSync(cwd).isDirectory()) return { ...base, error: `working directory ${cwd} is not a directory` };
    } catch {
      return { ...base, error: `working directory ${cwd} does not exist` };
    }
    let line: ReturnType<typeof commandLine>;
    try {
      line = commandLine(exec);
    } catch (err) {
      return { ...base, error: `could not write the script: ${(err as Error).message}` };
    }
    let output = "";
    let outputTruncated = false;
    const child = spawn(line.file, line.args, {
      cwd,
      env: { ...process.env, ...exec.env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const timeout = exec.timeoutSec ? setTimeout(() => this.stop("timeout"), exec.timeoutSec * 1000) : undefined;
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      this.shipper.push("stdout", text);
      if (exec.output === undefined || outputTruncated) return;
      output += text;
      if (output.length > exec.maxOutputBytes) {
        output = output.slice(0, exec.maxOutputBytes);
        outputTruncated = true;
      }
    });
    child.stderr?.setEncoding("utf8").on("data", (text: string) => this.shipper.push("stderr", text));
    this.opts.log(`${this.label}: started pid ${child.pid ?? "?"}`);
    const result = await new Promise<Outcome>((resolve) => {
      child.once("error", (err) => resolve({ ...base, error: `could not start ${line.file}: ${err.message}` }));
      child.once("exit", (code, signal) => {
        const done = () => resolve({ ...base, exitCode: code, signal });
        // Output may still be in the pipes: wait for them to close, but not for a background child that holds them.
        const wait = setTimeout(done, PIPE_CLOSE_WAIT_MS);
        child.once("close", () => {
          clearTimeout(wait);
          done();
        });
      });
    });
    clearTimeout(timeout);
    if (line.tempDir) rmSync(line.tempDir, { recursive: true, force: true });
    this.opts.log(
      `${this.label}: exited ${result.error ?? (result.signal ? `by ${result.signal}` : `with ${result.exitCode}`)}`,
    );
    const outcome: Outcome = { ...result, timedOut: this.timedOut, cancelled: this.cancelled, outputTruncated };
    if (exec.output !== undefined) outcome.output = output.replace(/\s+$/, "");
    if (outputTruncated)
      this.shipper.push("stderr", `[dagflare runner: output ${exec.output} cut at ${exec.maxOutputBytes} bytes]\n`);
    return outcome;
  }

  private async beat(): Promise<void> {
    try {
      const res = await this.opts.client.heartbeat(this.lease.leaseId, this.lease.token);
      if (res.cancel && !this.cancelled) {
        this.opts.log(`${this.label}: stopped by the server; killing its process group`);
        this.stop("cancel");
      }
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.opts.log(`${this.label}: lease lost (${err.message}); killing its process group`);
        this.shipper.lost = true;
        this.stop("lost");
      }
      // Network errors: the next heartbeat tries again; the server decides about expiry.
    }
  }

  private async report(o: Outcome): Promise<Lease[]> {
    const req: CompleteRequest = {
      token: this.lease.token,
      exitCode: o.exitCode,
      signal: o.signal,
      timedOut: o.timedOut,
      cancelled: o.cancelled,
      outputTruncated: o.outputTruncated,
      lastLogSeq: this.shipper.lastSeq,
      droppedLogBytes: this.shipper.dropped,
    };
    if (o.error !== undefined) req.error = o.error;
    if (o.output !== undefined) req.output = o.output;
    const next = this.opts.wantNext?.();
    if (next) req.next = next;
    try {
      const res = await this.opts.client.complete(this.lease.leaseId, req);
      this.opts.log(`${this.label}: completion ${res.accepted ? "accepted" : "already recorded"}`);
      return res.next;
    } catch (err) {
      this.opts.log(`${this.label}: completion refused: ${(err as Error).message}`);
      return [];
    }
  }
}
