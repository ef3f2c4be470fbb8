// Steps run in process groups of their own, so a runner killed with SIGKILL (or by the OOM
// killer) would leave them running unsupervised: their results would be lost and their side
// effects would happen beside the attempt the server dispatches again. The watchdog is a tiny
// separate process holding a pipe from the runner. The runner tells it each group it starts
// and ends; when the pipe closes, the runner is gone, and the watchdog SIGKILLs every group
// still registered.
//
// It is a POSIX shell loop rather than a second Node process: about 1 MiB resident instead of
// about 40 MiB, with the same guarantee (the pipe's end is the runner's death, whatever killed
// it). It uses only builtins (read, case, kill), so it forks nothing while it watches.
import { type ChildProcess, spawn } from "node:child_process";

// Lines are "+PGID" (watch) and "-PGID" (forget); `g` holds the watched groups, space-separated.
const SCRIPT = `
g=" "
while IFS= read -r l; do
  case $l in
    +*) g="$g\${l#+} " ;;
    -*) n=" "; for x in $g; do [ "$x" = "\${l#-}" ] || n="$n$x "; done; g=$n ;;
  esac
done
for x in $g; do kill -s KILL -- "-$x" 2>/dev/null; done
`;

export interface GroupWatcher {
  watch(pgid: number): void;
  unwatch(pgid: number): void;
}

export class Watchdog implements GroupWatcher {
  private readonly child: ChildProcess;
  private pending = "";

  constructor() {
    // Detached: a signal to the runner's process group (Ctrl-C) does not reach it.
    this.child = spawn("/bin/sh", ["-c", SCRIPT], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
    this.child.unref();
    // If the watchdog itself dies, the runner carries on without it.
    this.child.stdin?.on("error", () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  watch(pgid: number): void {
    this.send(`+${pgid}\n`);
  }

  unwatch(pgid: number): void {
    this.send(`-${pgid}\n`);
  }

  /**
   * The lines of one turn of the event loop go in one write when it ends: a wide run starts and
   * ends several groups per turn, and a write to the pipe is a system call each. A group is
   * watched a turn after its start at the latest, as a step's group already is watched only
   * once its pid is known; the fork helper also kills its live groups when the runner dies.
   */
  private send(line: string): void {
    this.pending += line;
    if (this.pending.length === line.length) setImmediate(() => this.flush());
  }

  private flush(): void {
    const text = this.pending;
    this.pending = "";
    if (text) this.child.stdin?.write(text);
  }
}
