// Steps run in process groups of their own, so a runner killed with SIGKILL (or by the OOM
// killer) would leave them running unsupervised: their results would be lost and their side
// effects would happen beside the attempt the server dispatches again. The watchdog is a tiny
// separate process holding a pipe from the runner. The runner tells it each group it starts
// and ends; when the pipe closes, the runner is gone, and the watchdog SIGKILLs every group
// still registered.
import { type ChildProcess, spawn } from "node:child_process";

const SCRIPT = `
const groups = new Set();
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\\n"); i >= 0; i = buf.indexOf("\\n")) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const pgid = Number(line.slice(1));
    if (line[0] === "+") groups.add(pgid);
    else groups.delete(pgid);
  }
});
const killAll = () => {
  for (const g of groups) {
    try { process.kill(-g, "SIGKILL"); } catch {}
  }
  process.exit(0);
};
process.stdin.on("end", killAll);
process.stdin.on("error", killAll);
`;

export interface GroupWatcher {
  watch(pgid: number): void;
  unwatch(pgid: number): void;
}

export class Watchdog implements GroupWatcher {
  private readonly child: ChildProcess;

  constructor() {
    // Detached: a signal to the runner's process group (Ctrl-C) does not reach it.
    this.child = spawn(process.execPath, ["-e", SCRIPT], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
    this.child.unref();
    // If the watchdog itself dies, the runner carries on without it.
    this.child.stdin?.on("error", () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  watch(pgid: number): void {
    this.child.stdin?.write(`+${pgid}\n`);
  }

  unwatch(pgid: number): void {
    this.child.stdin?.write(`-${pgid}\n`);
  }
}
