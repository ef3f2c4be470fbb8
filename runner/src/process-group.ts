// Runs an ExecSpec as a process group of its own (detached), so that a stop reaches everything
// the step started, not just its shell. Knows nothing about leases or the server.
import { chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ExecSpec, LogEntry } from "../../src/shared/protocol.ts";
import { commandLine } from "./command-line.ts";
import { directCommand } from "./direct-exec.ts";
import { execFailure } from "./exec-failure.ts";
import type { Command } from "./helper-child.ts";
import { type LaunchedChild, launch, resetHelper, spawnChild, warmUpLauncher } from "./launch.ts";
import { PRIVATE_ENV, runnerEnv } from "./runner-env.ts";
import type { StepUser } from "./step-user.ts";
import { trace } from "./trace.ts";
import type { GroupWatcher } from "./watchdog.ts";

/** Time between SIGTERM and SIGKILL when a group is stopped. */
export const KILL_GRACE_MS = 5_000;
/** How long output pipes may stay open once the group is done (held by a process that left it). */
const PIPE_CLOSE_WAIT_MS = 2_000;

export type Stream = LogEntry["stream"];

export interface ProcessResult {
  /** Null when the process was ended by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why the process could not run at all: bad dir, unwritable script, shell not found. */
  error?: string;
  /** Epoch ms on the runner's clock. */
  startedAt?: number;
  exitedAt?: number;
}

export interface StepProcess {
  /** Also the process group id. Undefined until the process runs, and when it never does. */
  readonly pid: number | undefined;
  /** Settles with the pid once the process runs, or undefined when it never does. */
  readonly started: Promise<number | undefined>;
  /** SIGTERM to the whole group now, SIGKILL after the grace period. Repeats are ignored. */
  stop(): void;
  /** Stops reading the step's output (back-pressure: its writes block once the pipes are full). */
  pause(): void;
  resume(): void;
  /** Settles once the process exited and its output was read (never rejects). */
  readonly done: Promise<ProcessResult>;
}

export interface StartOptions {
  onOutput: (stream: Stream, text: string) => void;
  killGraceMs?: number;
  /** First signal of a stop (the step's signalOnStop); SIGKILL follows after the grace period. */
  stopSignal?: NodeJS.Signals;
  /** The caller found the working directory usable just before: not looked up again. */
  dirChecked?: boolean;
}

let watcher: GroupWatcher | undefined;
let stepUser: StepUser | undefined;

/** Every process started from now on runs as `user` (undefined: as the runner's own user). */
export function setStepUser(user: StepUser | undefined): void {
  stepUser = user;
  // The fork helper runs as the step user: a running one belongs to the previous user.
  resetHelper();
}

/** The variables that name the step's user, when steps run as another user than the runner. */
export function stepUserEnv(): Record<string, string> {
  return stepUser ? { HOME: stepUser.home, USER: stepUser.name, LOGNAME: stepUser.name } : {};
}

/** Makes ready what starts steps, so the first step does not wait for it; says which it is. */
export function prepareLauncher(): string {
  return warmUpLauncher({ user: stepUser, privateEnv: PRIVATE_ENV });
}

/** Every group started from now on is registered with `w` while it runs (see watchdog.ts). */
export function setGroupWatcher(w: GroupWatcher | undefined): void {
  watcher = w;
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already, which is what we wanted.
  }
}

/** True while any process of the group exists (including zombies not reaped yet). */
export function groupAlive(pgid: number): boolean {
  // The usual answer is ESRCH (a step's group is gone once its process exits), which Node
  // throws: without a stack trace the exception costs a fraction (capturing it was about 3% of
  // the runner's CPU in a wide run, BENCHMARKS.md "A wide run's cost per step").
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Why `dir` cannot be a working directory, or undefined when it can. */
export function workingDirProblem(dir: string | undefined): string | undefined {
  const cwd = path.resolve(dir ?? ".");
  try {
    if (!statSync(cwd).isDirectory()) return `working directory ${cwd} is not a directory`;
  } catch {
    return `working directory ${cwd} does not exist`;
  }
  return undefined;
}

export function startProcess(exec: ExecSpec, opts: StartOptions): StepProcess {
  const cwd = path.resolve(exec.dir ?? ".");
  const dirProblem = opts.dirChecked ? undefined : workingDirProblem(cwd);
  if (dirProblem !== undefined) return notStarted(dirProblem);
  let scriptDir: string | undefined;
  let scriptPath: string | undefined;
  if (exec.script !== undefined) {
    try {
      scriptDir = mkdtempSync(path.join(tmpdir(), "dagflare-step-"));
      scriptPath = path.join(scriptDir, "script");
      writeFileSync(scriptPath, exec.script, { mode: 0o700 });
      // Private to the step's user, who must be able to run it.
      if (stepUser) {
        chownSync(scriptDir, stepUser.uid, stepUser.gid);
        chownSync(scriptPath, stepUser.uid, stepUser.gid);
      }
    } catch (err) {
      removeDir(scriptDir);
      return notStarted(`could not write the script: ${(err as Error).message}`);
    }
  }
  const { file, args } = commandLine(exec, scriptPath);
  const env: NodeJS.ProcessEnv = { ...runnerEnv(), ...stepUserEnv(), ...exec.env };
  const direct = directCommand(exec, scriptPath, env, cwd);
  const cmd: Command = direct
    ? { file: direct.file, args: direct.args, cwd, env: direct.env, direct: direct.name }
    : { file, args, cwd, env };
  const ctx = { user: stepUser, privateEnv: PRIVATE_ENV };
  const startedAt = Date.now();
  let first: LaunchedChild;
  try {
    first = launch(cmd, ctx);
  } catch (err) {
    removeDir(scriptDir);
    return notStarted(`could not start ${cmd.file}: ${(err as Error).message}`);
  }

  // Known once the process runs: at once with spawn, on the helper's report with the helper.
  let pgid: number | undefined;
  let stopWanted = false;
  const graceMs = opts.killGraceMs ?? KILL_GRACE_MS;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    stopWanted = true;
    if (pgid === undefined || killTimer) return;
    const group = pgid;
    killGroup(group, opts.stopSignal ?? "SIGTERM");
    killTimer = setTimeout(() => killGroup(group, "SIGKILL"), graceMs);
  };

  let paused = false;
  let pipes: Array<Readable | null> = [];
  const pause = () => {
    paused = true;
    for (const p of pipes) p?.pause();
  };
  const resume = () => {
    paused = false;
    for (const p of pipes) p?.resume();
  };

  let onStarted: (pid: number | undefined) => void = () => {};
  const started = new Promise<number | undefined>((resolve) => (onStarted = resolve));
  const done = new Promise<ProcessResult>((resolve) => {
    let exit: ProcessResult | undefined;
    let pipeTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const flushDecoders: Array<() => void> = [];
    const finish = (result: ProcessResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(pipeTimer);
      for (const p of pipes) p?.destroy();
      for (const flush of flushDecoders) flush();
      // A stop under way goes on to SIGKILL while anything of the group is left.
      if (killTimer !== undefined && (pgid === undefined || !groupAlive(pgid))) clearTimeout(killTimer);
      removeDir(scriptDir);
      if (pgid !== undefined) watcher?.unwatch(pgid);
      onStarted(undefined);
      resolve(result);
    };
    const attach = (child: LaunchedChild) => {
      const running = () => {
        pgid = child.pid;
        if (pgid === undefined) return;
        watcher?.watch(pgid);
        pipes = [child.stdout, child.stderr];
        for (const stream of ["stdout", "stderr"] as const) {
          const decoder = new StringDecoder("utf8");
          const emit = (text: string) => text && opts.onOutput(stream, text);
          child[stream]?.on("data", (b: Buffer) => emit(decoder.write(b)));
          flushDecoders.push(() => emit(decoder.end()));
        }
        if (paused) pause();
        onStarted(pgid);
        if (stopWanted) stop();
      };
      // spawn knows the pid at once; the helper says it in a report.
      if (child.pid !== undefined) running();
      else child.once("spawn", running);
      // The helper died before it forked the step: nothing ran, so spawn runs it.
      child.once("unstarted", () => {
        try {
          attach(spawnChild(cmd, stepUser));
        } catch (err) {
          finish({ exitCode: null, signal: null, error: `could not start ${cmd.file}: ${(err as Error).message}` });
        }
      });
      child.once("error", (err: NodeJS.ErrnoException) => {
        // spawn's failed exec of a command run without its shell: the shell's answer (the
        // helper's child gives it itself, as an exit).
        const failed = cmd.direct === undefined ? undefined : execFailure(cmd.direct, err);
        if (failed === undefined) {
          finish({ exitCode: null, signal: null, error: `could not start ${cmd.file}: ${err.message}` });
          return;
        }
        opts.onOutput("stderr", failed.line);
        finish({ exitCode: failed.exitCode, signal: null, startedAt, exitedAt: Date.now() });
      });
      child.once("exit", (exitCode: number | null, signal: NodeJS.Signals | null) => {
        exit = { exitCode, signal, startedAt, exitedAt: Date.now() };
        if (pgid !== undefined) trace?.("exit", { pid: pgid });
        // What the step left running in its group ends with it; only a process that left the
        // group (setsid) survives the step.
        if (pgid !== undefined && groupAlive(pgid)) stop();
        // Output may still sit in the pipes: wait for them to close, within bounds. While they
        // are paused for back-pressure the output is only waiting to be shipped: wait on.
        const waitMs = (killTimer ? graceMs : 0) + PIPE_CLOSE_WAIT_MS;
        const closeOrGiveUp = () => {
          if (paused) pipeTimer = setTimeout(closeOrGiveUp, waitMs);
          else if (exit) finish(exit);
        };
        pipeTimer = setTimeout(closeOrGiveUp, waitMs);
      });
      child.once("close", () => exit && finish(exit));
    };
    attach(first);
  });

  return {
    get pid() {
      return pgid;
    },
    started,
    stop,
    pause,
    resume,
    done,
  };
}

function notStarted(error: string): StepProcess {
  const none = () => {};
  return {
    pid: undefined,
    stop: none,
    pause: none,
    resume: none,
    started: Promise.resolve(undefined),
    done: Promise.resolve({ exitCode: null, signal: null, error }),
  };
}

function removeDir(dir: string | undefined): void {
  if (!dir) return;
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // A leftover file in the temp dir is not worth failing the step over.
  }
}
