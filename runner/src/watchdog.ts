// Steps run in process groups of their own, so a runner killed with SIGKILL (or by the OOM
// killer) would leave them running unsupervised: their results would be lost and their side
// effects would happen beside the attempt the server dispatches again. The watchdog is a tiny
// separate process holding a pipe from the runner; when the pipe closes, the runner is gone,
// and the watchdog SIGKILLs every group the runner was running.
//
// It is a POSIX shell loop rather than a second Node process: about 1 MiB resident instead of
// about 40 MiB, with the same guarantee (the pipe's end is the runner's death, whatever killed
// it). It uses only builtins (read, kill), so it forks nothing while it watches.
//
// The runner keeps the list of its live groups in a file the two share, one fixed-width record
// per slot, written in place (`pwrite`) as a group starts and ends: the watchdog reads it only
// once the runner is gone. A step's start and end thus cost the runner a write to a file each,
// and wake no other process (a line per change on the pipe woke the shell twice a step, each
// time taking the runner's core from it: BENCHMARKS.md "The watchdog's list of groups"). The
// file has no name: the runner opens it, unlinks it and hands the open file to the watchdog.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** One record: a pgid (Linux's are at most 7 digits) padded with spaces, and a newline. */
const RECORD = 12;
const BLANK = Buffer.from(`${" ".repeat(RECORD - 1)}\n`);

// Waits for the end of the runner's pipe (nothing is written to it), then kills the group of
// every record of the file on descriptor 3; blank records read as empty and are skipped.
const SCRIPT = `
while IFS= read -r l; do :; done
while read -r x; do [ -n "$x" ] && kill -s KILL -- "-$x" 2>/dev/null; done <&3
`;

/** In /dev/shm (memory) where the host has it, else the temporary directory. */
function privateDir(): string {
  try {
    return mkdtempSync("/dev/shm/dagflare-watchdog-");
  } catch {
    return mkdtempSync(path.join(tmpdir(), "dagflare-watchdog-"));
  }
}

export interface GroupWatcher {
  watch(pgid: number): void;
  unwatch(pgid: number): void;
}

export class Watchdog implements GroupWatcher {
  private readonly child: ChildProcess;
  private readonly fd: number;
  private readonly slots = new Map<number, number>();
  private readonly free: number[] = [];
  private used = 0;

  constructor() {
    const dir = privateDir();
    try {
      this.fd = openSync(path.join(dir, "groups"), "w+", 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Detached: a signal to the runner's process group (Ctrl-C) does not reach it.
    this.child = spawn("/bin/sh", ["-c", SCRIPT], { detached: true, stdio: ["pipe", "ignore", "ignore", this.fd] });
    this.child.unref();
    // If the watchdog itself dies, the runner carries on without it.
    this.child.stdin?.on("error", () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  watch(pgid: number): void {
    if (this.slots.has(pgid)) return;
    const slot = this.free.pop() ?? this.used++;
    this.slots.set(pgid, slot);
    const record = Buffer.from(`${String(pgid).padEnd(RECORD - 1)}\n`);
    writeSync(this.fd, record, 0, RECORD, slot * RECORD);
  }

  unwatch(pgid: number): void {
    const slot = this.slots.get(pgid);
    if (slot === undefined) return;
    this.slots.delete(pgid);
    writeSync(this.fd, BLANK, 0, RECORD, slot * RECORD);
    this.free.push(slot);
  }

  /** The runner's death as the watchdog sees it (tests): it kills what is watched and exits. */
  endForTest(): Promise<void> {
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin?.end();
    return gone.finally(() => closeSync(this.fd));
  }
}
