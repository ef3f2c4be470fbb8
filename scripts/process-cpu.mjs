// CPU time of the processes of a local stack, from /proc: which processes descend from this one,
// and how much CPU each used (utime + stime) and its children that it waited for (cutime +
// cstime: the steps' processes, which the runner's fork helper reaps). Linux only.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SEC = 100; // Linux's USER_HZ, which /proc reports CPU time in

/** One process: its pid, parent, command name (at most 15 characters) and argv[0]. */
function readProcess(pid) {
  const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(readFileSync(`/proc/${pid}/stat`, "utf8").trim()) ?? [];
  const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
  return { pid, comm, argv0, ppid: Number(rest?.split(" ")[1]) };
}

/** The processes under `root` (itself excluded), found by walking parent links. */
export function descendants(root = process.pid) {
  const procs = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      procs.push(readProcess(Number(entry)));
    } catch {
      // a process that ended while we looked
    }
  }
  const ours = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (ours.has(p.ppid) && !ours.has(p.pid)) {
        ours.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => p.pid !== root && ours.has(p.pid));
}

/** CPU of a process in ms: its own (utime + stime), and that of the children it reaped. */
export function cpuTimes(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  const ms = (i) => (Number(fields[i]) * 1000) / TICKS_PER_SEC;
  return { ownMs: ms(11) + ms(12), childrenMs: ms(13) + ms(14) };
}

/**
 * A reader of the CPU used by named processes since it was made: `take()` returns, per name,
 * the ms used since the reader was made. `parts` maps a name to [pid, "own" | "children"].
 */
export function cpuSince(parts) {
  const read = () =>
    Object.fromEntries(
      Object.entries(parts).map(([name, [pid, which]]) => {
        const t = cpuTimes(pid);
        return [name, which === "own" ? t.ownMs : t.childrenMs];
      }),
    );
  const start = read();
  return () => {
    const now = read();
    return Object.fromEntries(Object.keys(parts).map((name) => [name, now[name] - start[name]]));
  };
}
