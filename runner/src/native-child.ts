// A step's process started by the runner itself with posix_spawn (posix-spawn.ts), the default
// launcher where the host has it: no helper process between the runner and its steps, and no
// copy of the runner's memory per start. The guarantees are spawn's with `detached: true` and
// the fork helper's: the step leads a session and process group of its own, gets exactly the
// argv, directory and environment the runner computed, /dev/null as stdin, two pipes as stdout
// and stderr (separate, streaming, holding the step back when the runner stops reading), no
// other descriptor of the runner's, every signal at its default and none blocked; its exit code
// or signal is its own `waitpid` status. The runner learns of the exit from SIGCHLD, as a shell
// does, and checks every live step once a second besides.
import { accessSync, closeSync, constants, openSync, statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import path from "node:path";
import { getSystemErrorMap, getSystemErrorName } from "node:util";
import type { Command } from "./helper-child.ts";
import { PipedChild } from "./piped-child.ts";
import { type Libc, libc } from "./posix-spawn.ts";

const { ENOENT, EACCES, ENOEXEC } = osConstants.errno;
/** execvp's search path when PATH is unset (glibc's and musl's). */
const DEFAULT_PATH = "/bin:/usr/bin";

/**
 * One step started with posix_spawn, with the events of a ChildProcess that process-group.ts
 * uses: "error" (could not start: an Error with spawn's `code`), "exit" (code, signal) and
 * "close" (exited and both output pipes closed). Its pid is known when it is returned.
 */
export class NativeChild extends PipedChild {
  /** Called once the process ended: its wait status. */
  onStatus(status: number): void {
    if (this.exited) return;
    this.exited = true;
    this.emitExit((status >> 8) & 0xff, status & 0x7f);
  }
}

const live = new Map<number, NativeChild>();
let devNull: number | undefined;
let watching = false;
let sweep: NodeJS.Timeout | undefined;

/** True when steps can be started this way on this host. */
export function nativeUsable(): boolean {
  return libc() !== undefined;
}

/** Starts `cmd`; call only when nativeUsable(). Errors come as an "error" event, as with spawn. */
export function launchNative(cmd: Command): NativeChild {
  const c = libc() as Libc;
  const child = new NativeChild();
  const fail = (err: Error) => {
    // After the caller has listened, as spawn does.
    process.nextTick(() => child.emit("error", err));
    return child;
  };
  const found = findProgram(cmd.file, cmd.env.PATH, cmd.cwd);
  if (typeof found === "number") return fail(spawnError(cmd.file, found));
  const out = c.pipe();
  const err = out && c.pipe();
  if (!out || !err) {
    for (const fd of [...(out ?? []), ...(err ?? [])]) closeSync(fd);
    return fail(new Error("could not make its output pipes (too many open files?)"));
  }
  devNull ??= openSync("/dev/null", "r");
  const env = Object.entries(cmd.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  // Without the shell, argv[0] is still the word as written, as the shell would pass it.
  const argv = [cmd.direct ?? cmd.file, ...cmd.args];
  let { rc, pid } = c.spawn(found, argv, env, [devNull, out[1], err[1]], cmd.cwd);
  // As execvp: a file that is no program is a script for /bin/sh.
  if (rc === ENOEXEC)
    ({ rc, pid } = c.spawn("/bin/sh", ["sh", found, ...argv.slice(1)], env, [devNull, out[1], err[1]], cmd.cwd));
  closeSync(out[1]);
  closeSync(err[1]);
  if (rc !== 0) {
    closeSync(out[0]);
    closeSync(err[0]);
    const dir = dirProblem(cmd.cwd);
    return fail(dir ? new Error(`working directory ${cmd.cwd}: ${dir}`) : spawnError(cmd.file, rc));
  }
  child.pid = pid;
  child.readPipes(out[0], err[0]);
  live.set(pid, child);
  watchExits();
  return child;
}

/** SIGCHLD (Node's own handler for it leaves alone the children it did not start). */
function watchExits(): void {
  if (!watching) {
    watching = true;
    process.on("SIGCHLD", reapAll);
  }
  // Node's signal watcher does not keep the runner alive: this does, while a step runs, and
  // catches an exit whose signal was merged with another's.
  sweep ??= setInterval(reapAll, 1_000);
}

function reapAll(): void {
  const c = libc() as Libc;
  for (const [pid, child] of live) {
    const { pid: got, status } = c.reap(pid);
    if (got === 0) continue;
    live.delete(pid);
    // -1 (ECHILD): reaped elsewhere, its status lost; say so rather than wait forever.
    if (got === pid) child.onStatus(status);
    else child.emit("error", new Error("its exit status was lost (reaped by another part of the runner)"));
  }
  if (live.size === 0 && sweep) {
    clearInterval(sweep);
    sweep = undefined;
  }
}

/** What exec is to run for `file`, as execvp finds it in the step's PATH, or why not (errno). */
function findProgram(file: string, pathVar: string | undefined, cwd: string): string | number {
  if (file.includes("/")) return file;
  let denied = false;
  for (const dir of (pathVar ?? DEFAULT_PATH).split(":")) {
    const candidate = path.resolve(cwd, dir || ".", file);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EACCES") denied = true;
    }
  }
  return denied ? EACCES : ENOENT;
}

function spawnError(file: string, errno: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  const text = getSystemErrorMap().get(-errno)?.[1] ?? code;
  return Object.assign(new Error(`spawn ${file} ${code} (${text})`), {
    errno: -errno,
    code,
    syscall: `spawn ${file}`,
    path: file,
  });
}

function dirProblem(cwd: string): string | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return "not a directory";
    accessSync(cwd, constants.X_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? "cannot be entered";
  }
}
