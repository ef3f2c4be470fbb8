// A long-lived helper process that forks the runner's steps. Node's `spawn` blocks the runner's
// event loop for the whole fork and exec (about 3.4 ms per step on a loaded 2-core host; the
// runner's heap makes its fork dear), while a small helper forks in a fraction of that and the
// runner only writes a request and reads a line. BENCHMARKS.md "Where the time goes per step".
//
// The guarantees are those of `spawn` with `detached: true`: each step is the leader of a new
// session and process group (setsid), so stops reach the whole group; it gets exactly the
// environment, working directory and argv the runner computed, /dev/null as stdin, and its
// stdout and stderr as two FIFOs the runner reads (so they stay separate and stream). The
// helper makes each step's FIFOs ahead of it and the runner opens their read ends before it asks
// for the step, so the child never waits on the runner before its exec; the exit
// code or signal is the helper's `waitpid` status. The helper runs as the step user (when there
// is one), with the runner's credentials removed from its environment, and keeps no file of
// the runner's open. When the runner dies, the helper's stdin reaches end of file and it kills
// every live step's group, as the watchdog does (which keeps watching too).
import { type ChildProcess, spawn } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { FORK_HELPER_SCRIPT } from "./fork-helper-script.ts";
import { type Command, HelperChild } from "./helper-child.ts";
import type { StepUser } from "./step-user.ts";

/** After this many deaths the helper is not started again: steps go through `spawn`. */
const MAX_RESTARTS = 3;

/**
 * A private directory for the steps' FIFOs: in /dev/shm (a tmpfs) where there is one, since a
 * FIFO made on a disk file system such as ext4 costs an inode allocated and freed per stream (a
 * fifth of the helper's CPU, BENCHMARKS.md "A step's process, start to exit"); a FIFO's
 * data never touches the file system either way. Else the temporary directory.
 */
function pipesDir(): string {
  try {
    return mkdtempSync("/dev/shm/dagflare-fork-");
  } catch {
    // No /dev/shm (not Linux) or not writable here.
    return mkdtempSync(path.join(tmpdir(), "dagflare-fork-"));
  }
}

export class ForkHelper {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private nextId = 1;
  private deaths = 0;
  private readonly inFlight = new Map<number, HelperChild>();
  /** The helper has made the output pipes of every id up to this one ("R" reports). */
  private pipesMadeUpTo = 0;
  /** Requests whose pipes are not made yet, in id order. */
  private waiting: Array<{ step: HelperChild; body: Buffer }> = [];

  constructor(
    private readonly opts: {
      user?: StepUser;
      /** The runner's credentials: never in the helper's environment, so never in a step's. */
      privateEnv: string[];
      log?: (line: string) => void;
    },
  ) {}

  /** False once the helper died too often (or could not start): use `spawn`. */
  get usable(): boolean {
    return this.deaths < MAX_RESTARTS;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the helper if it is not running (and may be). */
  warmUp(): void {
    if (!this.child && this.usable) this.startHelper();
  }

  /** Starts `cmd` through the helper (started on first use, and again after a death). */
  launch(cmd: Command): HelperChild {
    const child = this.child ?? this.startHelper();
    const id = this.nextId++;
    const dir = this.dir as string;
    const step = new HelperChild(id, dir);
    this.inFlight.set(id, step);
    const env = Object.entries(cmd.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    const fields = [String(id), cmd.cwd, cmd.direct ?? "", String(cmd.args.length + 1), cmd.file, ...cmd.args, ...env];
    const body = Buffer.from(fields.join("\0"));
    if (id <= this.pipesMadeUpTo) this.send(child, step, body);
    else this.waiting.push({ step, body });
    this.refWhileBusy(child);
    return step;
  }

  /** Opens the step's pipes, then asks for it: its child finds their readers there and execs. */
  private send(child: ChildProcess, step: HelperChild, body: Buffer): void {
    try {
      step.openStreams();
    } catch (err) {
      // Without its pipes the step cannot be watched: it must not run. The helper is told to
      // skip its id (a request of the id alone), so the pipes ahead of it are still made.
      child.stdin?.write(`${String(step.id).length}\n${step.id}`);
      const why = `could not open its output pipes: ${(err as Error).message}`;
      // After the caller has listened: launch() returns first.
      process.nextTick(() => this.onReport(`F ${step.id} ${why}`));
      return;
    }
    child.stdin?.write(Buffer.concat([Buffer.from(`${body.length}\n`), body]));
  }

  /** "R": the pipes of every id up to `upTo` are made; send the requests that waited for them. */
  private onPipesMade(upTo: number): void {
    this.pipesMadeUpTo = upTo;
    const child = this.child;
    if (!child) return;
    while (this.waiting[0] && this.waiting[0].step.id <= upTo) {
      const { step, body } = this.waiting.shift() as { step: HelperChild; body: Buffer };
      this.send(child, step, body);
    }
  }

  /** Stops the helper (its live steps' groups are killed: the runner is quitting). */
  stop(): void {
    this.deaths = MAX_RESTARTS;
    this.child?.stdin?.end();
  }

  private startHelper(): ChildProcess {
    this.dir = pipesDir();
    const user = this.opts.user;
    if (user) chownSync(this.dir, user.uid, user.gid);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of this.opts.privateEnv) delete env[name];
    // Ids go on across helpers; this one makes the pipes of the ids from the next one on.
    this.pipesMadeUpTo = this.nextId - 1;
    this.waiting = [];
    const child = spawn("perl", ["-e", FORK_HELPER_SCRIPT, this.dir, String(this.nextId)], {
      // What ps shows first. (Setting $0 in Perl would also overwrite /proc/PID/environ.)
      argv0: "dagflare-fork-helper",
      // Its own session, like the watchdog: a Ctrl-C to the runner's terminal does not reach it.
      detached: true,
      env,
      stdio: ["pipe", "pipe", "inherit"],
      ...(user && { uid: user.uid, gid: user.gid }),
    });
    this.child = child;
    child.stdin?.on("error", () => {
      // EPIPE: the helper is gone; its exit is handled below.
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => this.onReport(line));
    const dir = this.dir;
    let gone = false;
    const onGone = (why: string) => {
      if (gone) return;
      gone = true;
      if (this.child === child) this.child = undefined;
      this.deaths++;
      if (this.deaths < MAX_RESTARTS) this.opts.log?.(`fork helper ${why}; starting it again for the next step`);
      else if (this.deaths === MAX_RESTARTS)
        this.opts.log?.(`fork helper ${why}; steps are started with spawn from now on`);
      const orphans = [...this.inFlight.values()];
      this.inFlight.clear();
      this.waiting = [];
      for (const step of orphans) step.onHelperDeath();
      rmSync(dir, { recursive: true, force: true });
    };
    child.once("error", (err) => {
      // Not installed (ENOENT) or not runnable: starting it again would fail the same way.
      this.deaths = MAX_RESTARTS - 1;
      onGone(`could not start (${err.message})`);
    });
    // "close", not "exit": the reports still in its pipe are read first, so a step that ended
    // just before the helper did is reported as it ended.
    child.once("close", (code, signal) => onGone(`exited (${signal ?? code})`));
    // An idle helper must not keep the runner alive: only a step waiting for its report does.
    child.unref();
    (child.stdin as Socket | null)?.unref();
    this.refWhileBusy(child);
    return child;
  }

  private refWhileBusy(child = this.child): void {
    const out = child?.stdout as Socket | null | undefined;
    if (this.inFlight.size > 0) out?.ref();
    else out?.unref();
  }

  private onReport(line: string): void {
    const [kind, idText, ...rest] = line.split(" ");
    const id = Number(idText);
    if (kind === "R") {
      this.onPipesMade(id);
      return;
    }
    const step = this.inFlight.get(id);
    if (!step) return;
    switch (kind) {
      case "S":
        step.onStarted(Number(rest[0]));
        break;
      case "F":
        this.inFlight.delete(id);
        step.onStartError(rest.join(" "));
        step.onExit(-1, 0);
        break;
      case "E":
        step.onStartError(rest.join(" "));
        break;
      case "X":
        this.inFlight.delete(id);
        step.onExit(Number(rest[0]), Number(rest[1]));
        break;
    }
    this.refWhileBusy();
  }
}
