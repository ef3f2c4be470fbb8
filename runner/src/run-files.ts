// A run's files on this host, under the runner's log directory: what DAG_RUN_LOG_FILE,
// DAG_RUN_STEP_STDOUT_FILE and DAG_RUN_STEP_STDERR_FILE name (Dagu's variables), so a step or a
// later step's `${id.stdout}` can read them here. The server keeps the authoritative logs; these
// are this host's copies, removed once nothing was written to a run's folder for the retention.
//
//   <dir>/<dag>/<run id>/run.log                  this runner's lines about the run's steps it ran
//   <dir>/<dag>/<run id>/<step>.<index>.<seq>.out  one attempt's stdout (.err: its stderr)
import {
  appendFileSync,
  chownSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { Lease } from "../../src/shared/protocol.ts";
import { DEFAULT_RETENTION_DAYS } from "./config.ts";
import type { StepUser } from "./step-user.ts";

const DAY_MS = 86_400_000;
/** How often old runs are looked for (and once at start). */
export const SWEEP_INTERVAL_MS = 3_600_000;

/** The paths of one attempt's files, as its step sees them. */
export interface StepFilePaths {
  runLog: string;
  stdout: string;
  stderr: string;
}

/** An attempt's output files, created and left open for appending its output: opened once. */
export interface OpenStepFiles {
  paths: StepFilePaths;
  fds: { stdout: number; stderr: number };
}

export interface RunFilesOptions {
  dir: string;
  retentionDays?: number;
  /** Steps run as this user: its group may read the run's files (and nothing else may). */
  stepUser?: StepUser;
}

/** One word of a path: what is not a letter, digit, `.`, `_` or `-` becomes `_`; never `.` or `..`. */
export function pathWord(text: string): string {
  const word = text.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 120);
  return word === "" || /^\.+$/.test(word) ? `_${word}` : word;
}

/** A run with steps running here. */
interface ActiveRun {
  steps: number;
  /**
   * Its run.log, open while a step of the run runs here: a chain step logs four lines, and an
   * open file (and a folder known to exist) spares each line a mkdir, an open and a close.
   */
  logFd?: number;
}

export class RunFiles {
  readonly dir: string;
  readonly retentionMs: number;
  private readonly user: StepUser | undefined;
  /** Runs with a step running here: never swept, however long the step runs. */
  private readonly active = new Map<string, ActiveRun>();

  constructor(opts: RunFilesOptions) {
    this.dir = path.resolve(opts.dir);
    this.retentionMs = (opts.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS;
    this.user = opts.stepUser;
  }

  /** Creates the log directory, or says why it cannot be (the runner then refuses to start). */
  check(): string | undefined {
    try {
      // Traversable by the step user, listable only by the runner.
      mkdirSync(this.dir, { recursive: true, mode: this.user ? 0o711 : 0o700 });
      return undefined;
    } catch (err) {
      return `cannot create the log directory ${this.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  }

  /** Where a lease's files are (nothing is created yet). */
  pathsOf(lease: Lease): StepFilePaths {
    const runDir = this.runDir(lease);
    const [index = "0", seq = "0"] = lease.leaseId.split(".").slice(-2);
    const base = path.join(runDir, `${pathWord(lease.stepName)}.${index}.${seq}`);
    return { runLog: path.join(runDir, "run.log"), stdout: `${base}.out`, stderr: `${base}.err` };
  }

  /**
   * Creates the run's folder and the attempt's (empty) files, readable by the step, and marks the
   * run active until `release`. Returns their paths, or why they could not be made.
   */
  create(lease: Lease): StepFilePaths | { error: string } {
    const created = this.open(lease);
    if ("error" in created) return created;
    closeQuietly(created.fds.stdout);
    closeQuietly(created.fds.stderr);
    return created.paths;
  }

  /** As `create`, the attempt's files left open: the caller appends the step's output and closes them. */
  open(lease: Lease): OpenStepFiles | { error: string } {
    const paths = this.pathsOf(lease);
    const run = this.active.get(lease.runId) ?? { steps: 0 };
    run.steps++;
    this.active.set(lease.runId, run);
    try {
      try {
        return { paths, fds: this.createStepFiles(run, lease, paths) };
      } catch (err) {
        // The run's folder is made once while the run is active here; one removed meanwhile
        // (by hand) is made again.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT" || run.logFd === undefined) throw err;
        closeQuietly(run.logFd);
        run.logFd = undefined;
        return { paths, fds: this.createStepFiles(run, lease, paths) };
      }
    } catch (err) {
      this.release(lease);
      return { error: `cannot create the step's files under ${this.dir}: ${(err as Error).message}` };
    }
  }

  /** The attempt is over: its run may be swept once its files are old. */
  release(lease: Lease): void {
    const run = this.active.get(lease.runId);
    if (!run) return;
    if (--run.steps > 0) return;
    this.active.delete(lease.runId);
    if (run.logFd !== undefined) closeQuietly(run.logFd);
  }

  /** Removes an attempt's files: a step started early that the server never leased (early-start.ts). */
  remove(lease: Lease): void {
    const { stdout, stderr } = this.pathsOf(lease);
    for (const file of [stdout, stderr]) rmSync(file, { force: true });
  }

  /** Appends one line, with its time, to the run's log on this host. */
  note(lease: Lease, line: string, now = Date.now()): void {
    const text = `${new Date(now).toISOString()} ${line}\n`;
    const fd = this.active.get(lease.runId)?.logFd;
    try {
      if (fd !== undefined) {
        writeSync(fd, text);
        return;
      }
      this.ensureRunDir(lease);
      appendFileSync(this.pathsOf(lease).runLog, text, { mode: this.user ? 0o640 : 0o600 });
    } catch {
      // This host's copy of what the runner logs; the runner's own log (stderr) has the line.
    }
  }

  /**
   * Removes the folders of runs that nothing was written to for the retention (their newest
   * file is older) and that have no step running here; then the DAG folders left empty.
   */
  sweep(now = Date.now()): { removed: string[] } {
    const removed: string[] = [];
    for (const dag of list(this.dir)) {
      const dagDir = path.join(this.dir, dag);
      for (const run of list(dagDir)) {
        if (this.active.has(run)) continue;
        const runDir = path.join(dagDir, run);
        if (now - newestWrite(runDir) < this.retentionMs) continue;
        rmSync(runDir, { recursive: true, force: true });
        removed.push(runDir);
      }
      if (list(dagDir).length === 0) rmSync(dagDir, { recursive: true, force: true });
    }
    return { removed };
  }

  /** The attempt's (empty) files, open; the run's log opened once while the run is active. */
  private createStepFiles(run: ActiveRun, lease: Lease, paths: StepFilePaths): OpenStepFiles["fds"] {
    if (run.logFd === undefined) {
      this.ensureRunDir(lease);
      run.logFd = this.openForStep(paths.runLog);
    }
    const stdout = this.openForStep(paths.stdout);
    try {
      return { stdout, stderr: this.openForStep(paths.stderr) };
    } catch (err) {
      closeQuietly(stdout);
      throw err;
    }
  }

  /** Opens (creating, appending) a file the step's user may read. */
  private openForStep(file: string): number {
    const fd = openSync(file, "a", this.user ? 0o640 : 0o600);
    if (this.user) {
      try {
        chownSync(file, process.getuid?.() ?? 0, this.user.gid);
      } catch (err) {
        closeQuietly(fd);
        throw err;
      }
    }
    return fd;
  }

  private runDir(lease: Lease): string {
    return path.join(this.dir, pathWord(lease.dagName), pathWord(lease.runId));
  }

  private ensureRunDir(lease: Lease): void {
    const runDir = this.runDir(lease);
    mkdirSync(path.dirname(runDir), { recursive: true, mode: this.user ? 0o711 : 0o700 });
    mkdirSync(runDir, { recursive: true, mode: this.user ? 0o750 : 0o700 });
    // The step user's group reads the run's files; it cannot add, rename or replace any.
    if (this.user) chownSync(runDir, process.getuid?.() ?? 0, this.user.gid);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // The run's log is done with; there is nothing left to save.
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    // Gone already (another sweep, or removed by hand): nothing to list.
    return [];
  }
}

/** The newest modification time of the folder and its files (epoch ms). */
function newestWrite(dir: string): number {
  let newest = mtimeOf(dir);
  for (const name of list(dir)) newest = Math.max(newest, mtimeOf(path.join(dir, name)));
  return newest;
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    // Removed meanwhile: it holds nothing recent.
    return 0;
  }
}
