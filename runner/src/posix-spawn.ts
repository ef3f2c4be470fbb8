// The C library's posix_spawn, called from the runner itself through koffi (an FFI module with
// builds for every common platform in its npm package: nothing is compiled on the host). On
// Linux, glibc and musl implement posix_spawn with a vfork-like clone: the child shares the
// runner's memory until its exec, so nothing of the runner's heap is copied or faulted in, and
// the runner waits only for that exec (BENCHMARKS.md "A step's process through posix_spawn").
// Only the C calls live here; native-child.ts makes a step's process of them.
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";

/** glibc's and musl's values on Linux (every architecture). */
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const O_CLOEXEC = 0o2000000;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const WNOHANG = 1;
/** Room for the C library's opaque structures (glibc's largest, the attributes, is 336 bytes). */
const OPAQUE_BYTES = 1024;

type Fn = (...args: unknown[]) => number;

export interface Libc {
  /** posix_spawn: 0, or the error number (nothing ran). */
  spawn(
    file: string,
    argv: string[],
    env: string[],
    fds: [number, number, number],
    cwd: string,
  ): { rc: number; pid: number };
  /** A pipe whose two ends are closed on exec: [read end, write end], or undefined (errno lost). */
  pipe(): [number, number] | undefined;
  /** waitpid(pid, WNOHANG): the pid and its status once it ended, 0 while it runs, -1 on error. */
  reap(pid: number): { pid: number; status: number };
}

let loaded: Libc | undefined;
let why: string | undefined;

/** The C calls, or undefined when this host cannot have them (`unavailableReason()` says why). */
export function libc(): Libc | undefined {
  if (loaded || why !== undefined) return loaded;
  try {
    loaded = bind();
  } catch (err) {
    why = (err as Error).message.split("\n")[0] ?? "unknown error";
  }
  return loaded;
}

export function unavailableReason(): string | undefined {
  libc();
  return why;
}

function bind(): Libc {
  if (process.platform !== "linux") throw new Error(`posix_spawn is used on Linux only, not on ${process.platform}`);
  // Resolved next to the runner's code at run time (the bundle leaves it out): an optional part.
  const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
  // The runner's own process: its C library, whichever it is (glibc, musl).
  const lib = koffi.load(null as unknown as string);
  const fn = (proto: string) => lib.func(proto) as unknown as Fn;
  const posixSpawn = fn(
    "int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)",
  );
  const actionsInit = fn("int posix_spawn_file_actions_init(void *actions)");
  const actionsDestroy = fn("int posix_spawn_file_actions_destroy(void *actions)");
  const addDup2 = fn("int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)");
  // glibc 2.29, musl 1.1.24: without it the step's directory could not be set in the child.
  const addChdir = fn("int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)");
  const addClosefrom = optional(() => fn("int posix_spawn_file_actions_addclosefrom_np(void *actions, int from)"));
  const attrInit = fn("int posix_spawnattr_init(void *attr)");
  const setFlags = fn("int posix_spawnattr_setflags(void *attr, short flags)");
  const setSigDefault = fn("int posix_spawnattr_setsigdefault(void *attr, void *set)");
  const setSigMask = fn("int posix_spawnattr_setsigmask(void *attr, void *set)");
  const sigEmptySet = fn("int sigemptyset(void *set)");
  const pipe2 = fn("int pipe2(_Out_ int *fds, int flags)");
  const waitpid = fn("int waitpid(int pid, _Out_ int *status, int options)");
  const fcntl = fn("int fcntl(int fd, int cmd, ...)");

  // The same for every step: its own session (and so process group), every signal's action at
  // its default (the runner ignores SIGPIPE: an exec would keep that), none blocked.
  const attr = Buffer.alloc(OPAQUE_BYTES);
  const allSignals = Buffer.alloc(OPAQUE_BYTES);
  const noSignals = Buffer.alloc(OPAQUE_BYTES);
  check(attrInit(attr), "posix_spawnattr_init");
  // Every one of Linux's 64 signals, the C library's own two (32, 33) included: sigfillset leaves
  // them out, and glibc's posix_spawn then leaves them ignored in the child, through its exec.
  allSignals.fill(0xff, 0, 8);
  check(sigEmptySet(noSignals), "sigemptyset");
  check(
    setFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID),
    "posix_spawnattr_setflags",
  );
  check(setSigDefault(attr, allSignals), "posix_spawnattr_setsigdefault");
  check(setSigMask(attr, noSignals), "posix_spawnattr_setsigmask");
  // Only the step's three descriptors pass: the child closes every other one. Where the C
  // library cannot (glibc before 2.34, musl), every descriptor the runner has now is made
  // close-on-exec once (those it opens later are: Node opens everything so).
  if (!addClosefrom) closeOnExecAll(fcntl);

  const actions = Buffer.alloc(OPAQUE_BYTES);
  const pid = [0];
  const fds = [0, 0];
  const status = [0];
  return {
    spawn(file, argv, env, [stdin, stdout, stderr], cwd) {
      check(actionsInit(actions), "posix_spawn_file_actions_init");
      try {
        // dup2 clears close-on-exec on the copy.
        addDup2(actions, stdin, 0);
        addDup2(actions, stdout, 1);
        addDup2(actions, stderr, 2);
        addChdir(actions, cwd);
        addClosefrom?.(actions, 3);
        const rc = posixSpawn(pid, file, actions, attr, [...argv, null], [...env, null]);
        return { rc, pid: rc === 0 ? (pid[0] as number) : 0 };
      } finally {
        actionsDestroy(actions);
      }
    },
    pipe() {
      return pipe2(fds, O_CLOEXEC) === 0 ? [fds[0] as number, fds[1] as number] : undefined;
    },
    reap(child) {
      const got = waitpid(child, status, WNOHANG);
      return { pid: got, status: status[0] as number };
    },
  };
}

function optional<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

function check(rc: number, what: string): void {
  if (rc !== 0) throw new Error(`${what} failed (${rc})`);
}

function closeOnExecAll(fcntl: Fn): void {
  for (const name of readdirSync("/proc/self/fd")) {
    const fd = Number(name);
    if (fd < 3) continue;
    const flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, "int", flags | FD_CLOEXEC);
  }
}
