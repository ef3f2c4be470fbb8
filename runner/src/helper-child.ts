// One step started through the fork helper (fork-helper.ts), seen from the runner: its pid once
// the child reports itself, its two output FIFOs, and the events of a ChildProcess that
// process-group.ts listens to.
import { constants, openSync } from "node:fs";
import { Socket } from "node:net";
import path from "node:path";
import { PipedChild } from "./piped-child.ts";

/** What to run: the argv, directory and full environment, as for `spawn`. */
export interface Command {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Set when `file` is exec'd without a shell: the command as written, named when exec fails. */
  direct?: string;
}

/**
 * One step started through the helper, with the events of a ChildProcess that process-group.ts
 * uses: "spawn" (pid known), "error" (could not start: Error), "exit" (code, signal), "close"
 * (exited and both output pipes closed), and "unstarted" when the helper died before it forked
 * the step (nothing ran; the caller may start it another way).
 */
export class HelperChild extends PipedChild {
  private startError: string | undefined;

  constructor(
    readonly id: number,
    private readonly dir: string,
  ) {
    super();
  }

  /** "S", from the child itself before it becomes the step; its pipes are open on both ends. */
  onStarted(pid: number): void {
    this.pid = pid;
    this.emit("spawn");
  }

  /** Opens the read ends of the step's FIFOs, which the helper made ahead (throws when it cannot). */
  openStreams(): void {
    const streams: Socket[] = [];
    try {
      for (const suffix of ["o", "e"]) {
        const file = path.join(this.dir, `${this.id}.${suffix}`);
        // Non-blocking: no writer yet. epoll reports no hang-up until a writer has come and gone.
        const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
        streams.push(new Socket({ fd, readable: true, writable: false }));
      }
    } catch (err) {
      for (const s of streams) s.destroy();
      throw err;
    }
    this.watchPipes(streams as [Socket, Socket]);
  }

  /** Nothing was forked: no writer will ever come and close the pipes, so close them here. */
  private dropStreams(): void {
    this.stdout?.destroy();
    this.stderr?.destroy();
  }

  onStartError(message: string): void {
    this.startError = message;
  }

  onExit(code: number, signal: number): void {
    if (this.exited) return;
    this.exited = true;
    if (this.pid === undefined) this.dropStreams();
    if (this.startError !== undefined) {
      this.emit("error", new Error(this.startError));
      return;
    }
    this.emitExit(code, signal);
  }

  /** The helper died: a step it never forked did not run; one it forked is killed and unknown. */
  onHelperDeath(): void {
    if (this.exited) return;
    if (this.pid === undefined) {
      this.exited = true;
      this.dropStreams();
      this.emit("unstarted");
      return;
    }
    this.startError = "the fork helper died while the step ran: its group was killed and its exit status is unknown";
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // ESRCH: the group ended already.
    }
    this.onExit(-1, 0);
  }
}
