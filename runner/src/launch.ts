// How a step's process is started: by the runner itself with the C library's posix_spawn (the
// default where the host has it, see native-child.ts), through the fork helper (fork-helper.ts:
// where posix_spawn cannot be had, or steps run as another user than the runner), or with Node's
// own `spawn` (the last fallback: the helper cannot start or died too often, or the runner was
// told `--launcher spawn`). All give process-group.ts the same child: a pid once started, two
// output streams, and the events "spawn", "error", "exit" and "close".
import { spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { Launcher } from "./config.ts";
import { ForkHelper } from "./fork-helper.ts";
import type { Command } from "./helper-child.ts";
import { launchNative, nativeUsable } from "./native-child.ts";
import { unavailableReason } from "./posix-spawn.ts";
import type { StepUser } from "./step-user.ts";

export type LaunchedChild = EventEmitter & {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
};

export interface LaunchContext {
  user: StepUser | undefined;
  /** Names removed from the environment the helper itself runs with. */
  privateEnv: string[];
}

let chosen: Launcher = "posix-spawn";
let helper: ForkHelper | undefined;
let helperLog: ((line: string) => void) | undefined;

/**
 * Which launcher starts steps from now on (a running helper is stopped when it is not chosen);
 * `log` hears of the helper's deaths and restarts.
 */
export function setLauncher(launcher: Launcher, log?: (line: string) => void): void {
  chosen = launcher;
  helperLog = log;
  if (launcher === "spawn") resetHelper();
}

/**
 * posix_spawn starts steps only as the runner's own user (it cannot change the user of its
 * child): steps of another user go through the helper, which runs as that user.
 */
function nativeFor(user: StepUser | undefined): boolean {
  if (chosen !== "posix-spawn") return false;
  if (user && (user.uid !== process.getuid?.() || user.gid !== process.getgid?.())) return false;
  if (nativeUsable()) return true;
  if (!reasonLogged) {
    reasonLogged = true;
    helperLog?.(`posix_spawn cannot be used here (${unavailableReason()}); steps are started by the fork helper`);
  }
  return false;
}
let reasonLogged = false;

/**
 * Makes ready what starts steps (loads posix_spawn, or starts the helper now rather than at the
 * first step, which would wait for Perl to start); says which it is, for the runner's log.
 */
export function warmUpLauncher(ctx: LaunchContext): string {
  if (chosen === "spawn") return "Node's spawn";
  if (nativeFor(ctx.user)) return "posix_spawn";
  helper ??= new ForkHelper({ ...ctx, log: helperLog });
  helper.warmUp();
  return helper.usable ? "the fork helper" : "Node's spawn";
}

/** Stops the helper (it is started again, with the current context, on the next step). */
export function resetHelper(): void {
  helper?.stop();
  helper = undefined;
}

/** The helper's pid while it runs (for tests and the memory benchmark's accounting). */
export function helperPid(): number | undefined {
  return helper?.pid;
}

/** Starts `cmd`; the child is a HelperChild or a ChildProcess, both used the same way. */
export function launch(cmd: Command, ctx: LaunchContext): LaunchedChild {
  if (nativeFor(ctx.user)) return launchNative(cmd);
  if (chosen !== "spawn") {
    helper ??= new ForkHelper({ ...ctx, log: helperLog });
    if (helper.usable) return helper.launch(cmd);
  }
  return spawnChild(cmd, ctx.user);
}

/** Node's spawn: synchronous, and it holds the runner's event loop for the whole fork and exec. */
export function spawnChild(cmd: Command, user: StepUser | undefined): LaunchedChild {
  // With a step user, libuv drops the runner's supplementary groups before setgid/setuid.
  const ids = user && { uid: user.uid, gid: user.gid };
  return spawn(cmd.file, cmd.args, {
    cwd: cmd.cwd,
    env: cmd.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // Without the shell, argv[0] is still the word as written, as the shell would pass it.
    ...(cmd.direct !== undefined && { argv0: cmd.direct }),
    ...ids,
  });
}
