// What the runner's own launchers' children share (native-child.ts, helper-child.ts): a step's
// stdout and stderr as two pipes the runner reads, and "close" once the process has exited and
// both pipes have closed, as a ChildProcess emits it.
import { EventEmitter } from "node:events";
import { Socket } from "node:net";
import { constants as osConstants } from "node:os";

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export class PipedChild extends EventEmitter {
  pid: number | undefined;
  stdout: Socket | null = null;
  stderr: Socket | null = null;
  protected exited = false;
  private openPipes = 0;

  /** Reads the step's output from these two descriptors (the read ends of its pipes). */
  readPipes(out: number, err: number): void {
    this.watchPipes([out, err].map((fd) => new Socket({ fd, readable: true, writable: false })) as [Socket, Socket]);
  }

  protected watchPipes(streams: [Socket, Socket]): void {
    for (const s of streams) {
      this.openPipes++;
      s.once("close", () => {
        this.openPipes--;
        this.maybeClose();
      });
    }
    [this.stdout, this.stderr] = streams;
  }

  /** "exit" with ChildProcess's arguments, from an exit code or a signal's number (0: none). */
  protected emitExit(code: number, signal: number): void {
    this.emit("exit", signal ? null : code, signal ? (SIGNAL_NAMES.get(signal) ?? null) : null);
    this.maybeClose();
  }

  protected maybeClose(): void {
    if (this.exited && this.openPipes === 0) this.emit("close");
  }
}
