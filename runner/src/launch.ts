// How a step's process is started: through the fork helper (the default, see fork-helper.ts) or
// with Node's own `spawn` (the fallback: the helper cannot start, died too often, or the
// runner was told `--launcher spawn`). Both give process-group.ts the same child: a pid once
// started, two output streams, and the events "spawn", "error", "exit" and "close".
import { spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { Launcher } from "./config.ts";
import { ForkHelper } from "./fork-helper.ts";
import type { Command } from "./helper-child.ts";
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

let chosen: Launcher = "helper";
let helper: ForkHelper | undefined;
let helperLog: ((line: string) => void) | undefined;

/**
 * Which launcher starts steps from now on (a running helper is stopped when it is not chosen);
 * `log` hears of the helper's deaths and restarts.
 */
export function setLauncher(launcher: Launcher, log?: (line: string) => void): void {
  chosen = launcher;
  helperLog = log;
  if (launcher !== "helper") resetHelper();
}

/** Starts the helper now rather than at the first step, which would wait for Perl to start. */
export function warmUpLauncher(ctx: LaunchContext): void {
  if (chosen !== "helper") return;
  helper ??= new ForkHelper({ ...ctx, log: helperLog });
  helper.warmUp();
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
  if (chosen === "helper") {
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
