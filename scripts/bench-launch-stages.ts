// `npm run bench:launch -- --stages [N]`: a step's process as the runner sees it, stage by stage,
// against the floor. N (400) sequential `/bin/true` starts through the runner's `startProcess`
// with each launcher (posix_spawn and the fork helper, no shell: what a chain of `/bin/true`
// steps runs), each timed from the start asked to the pid known, to the exit reported and to the
// output pipes closed; and, for the sequential total, the same N `/bin/true` run by GNU make
// (`make -j1`, a fork and exec each) and by a plain Node loop of `spawn` awaiting `close`. The
// four take turns in blocks of 50 so they share the machine's load. Figures, never assertions.
// BENCHMARKS.md "A step's process, start to exit" and "A step's process through posix_spawn".
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";

const count = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 400);
const BLOCK = 50;
const work = mkdtempSync(path.join(tmpdir(), "bench-launch-"));
// The exit mark comes from the runner's own trace (trace.ts), read when the run is over.
const traceFile = path.join(work, "trace.jsonl");
process.env.DAGFLARE_RUNNER_TRACE = traceFile;
const { helperPid, setLauncher } = await import("../runner/src/launch.ts");
// @ts-expect-error: a plain module of the scripts, without types
const { cpuTimes } = (await import("./process-cpu.mjs")) as {
  cpuTimes: (pid: number) => { ownMs: number; childrenMs: number };
};
const { prepareLauncher, startProcess } = await import("../runner/src/process-group.ts");
const { traceNow } = await import("../runner/src/trace.ts");

const exec = { args: [], env: {}, dir: "/tmp", maxOutputBytes: 1024, command: "/bin/true", shell: [] };
interface Marks {
  pid: number;
  asked: number;
  running: number;
  closed: number;
}
const LAUNCHED = ["posix-spawn", "helper"] as const;
const steps: Record<(typeof LAUNCHED)[number], Marks[]> = { "posix-spawn": [], helper: [] };

async function launchedStep(): Promise<Marks> {
  const asked = traceNow();
  let running = 0;
  const proc = startProcess(exec, { onOutput: () => {} });
  const pid = await proc.started;
  running = traceNow();
  const r = await proc.done;
  const closed = traceNow();
  if (r.exitCode !== 0 || pid === undefined) throw new Error(`the step failed: ${JSON.stringify(r)}`);
  return { pid, asked, running, closed };
}

function nodeSpawn(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/true", [], { stdio: ["ignore", "pipe", "pipe"] });
    child.once("error", reject);
    child.once("close", () => resolve());
  });
}

const makefile = path.join(work, "Makefile");
const targets = Array.from({ length: BLOCK }, (_, i) => `t${i}`);
writeFileSync(
  makefile,
  `all: ${targets.join(" ")}\n${targets.map((t) => `${t}:\n\t/bin/true\n`).join("")}.PHONY: all ${targets.join(" ")}\n`,
);

const totals = { "posix-spawn": 0, helper: 0, make: 0, spawn: 0 };
/** CPU ms: this process (the runner's part), the helper, and the processes each way forks. */
const cpu = {
  posixSpawnRunner: 0,
  posixSpawnSteps: 0,
  helperRunner: 0,
  helperSelf: 0,
  helperSteps: 0,
  make: 0,
  spawnRunner: 0,
  spawnSteps: 0,
};
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (const launcher of LAUNCHED) {
  setLauncher(launcher);
  prepareLauncher();
  await launchedStep(); // not counted: the helper starting Perl, the FFI module loading
}
const loads: number[] = [];
for (let done = 0; done < count; done += BLOCK) {
  loads.push(loadavg()[0] as number);
  setLauncher("posix-spawn");
  const n0 = cpuTimes(process.pid);
  let own = ownCpuMs();
  let t = performance.now();
  for (let i = 0; i < BLOCK; i++) steps["posix-spawn"].push(await launchedStep());
  totals["posix-spawn"] += performance.now() - t;
  cpu.posixSpawnRunner += ownCpuMs() - own;
  cpu.posixSpawnSteps += cpuTimes(process.pid).childrenMs - n0.childrenMs;
  setLauncher("helper");
  const helper = helperPid() as number;
  const h0 = cpuTimes(helper);
  own = ownCpuMs();
  t = performance.now();
  for (let i = 0; i < BLOCK; i++) steps.helper.push(await launchedStep());
  totals.helper += performance.now() - t;
  cpu.helperRunner += ownCpuMs() - own;
  const h1 = cpuTimes(helper);
  cpu.helperSelf += h1.ownMs - h0.ownMs;
  cpu.helperSteps += h1.childrenMs - h0.childrenMs;
  t = performance.now();
  // The shell's reaped children's CPU, printed once make is done: make's and its recipes'.
  const made = execFileSync("sh", ["-c", 'make -s -j1 -f "$1" -C "$2" && cat /proc/$$/stat', "sh", makefile, work]);
  totals.make += performance.now() - t;
  const fields = made
    .toString()
    .replace(/^.*\) /, "")
    .split(" ");
  cpu.make += (Number(fields[13]) + Number(fields[14])) * 10;
  const s0 = cpuTimes(process.pid);
  own = ownCpuMs();
  t = performance.now();
  for (let i = 0; i < BLOCK; i++) await nodeSpawn();
  totals.spawn += performance.now() - t;
  cpu.spawnRunner += ownCpuMs() - own;
  cpu.spawnSteps += cpuTimes(process.pid).childrenMs - s0.childrenMs;
}
setLauncher("spawn");
// Written at exit by the trace module: flush it by waiting for its interval.
await new Promise((resolve) => setTimeout(resolve, 1_100));
const exits = new Map<number, number>();
for (const line of readFileSync(traceFile, "utf8").split("\n")) {
  if (!line) continue;
  const e = JSON.parse(line) as { t: number; stage: string; pid?: number };
  if (e.stage === "exit" && e.pid !== undefined) exits.set(e.pid, e.t);
}
rmSync(work, { recursive: true, force: true });

const pct = (xs: number[], p: number) => ([...xs].sort((a, b) => a - b)[Math.floor(p * xs.length)] ?? NaN).toFixed(2);
const exitOf = (s: Marks) => exits.get(s.pid) ?? NaN;
const row = (name: string, of: (s: Marks) => number) =>
  `| ${name} | ${LAUNCHED.map((l) => steps[l].map(of))
    .map((xs) => `${pct(xs, 0.5)} / ${pct(xs, 0.9)} ms`)
    .join(" | ")} |\n`;
process.stdout.write(
  `${count} sequential \`/bin/true\`, load ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}\n\n` +
    `| stage, p50 / p90 | ${LAUNCHED.join(" | ")} |\n| --- | --- | --- |\n` +
    row("start asked -> pid known", (s) => s.running - s.asked) +
    row("pid known -> exit reported", (s) => exitOf(s) - s.running) +
    row("exit reported -> pipes closed", (s) => s.closed - exitOf(s)) +
    row("start asked -> pipes closed", (s) => s.closed - s.asked) +
    "\n| sequential total | ms | per step |\n| --- | --- | --- |\n" +
    Object.entries(totals)
      .map(([k, ms]) => `| ${k} | ${ms.toFixed(0)} | ${(ms / count).toFixed(2)} ms |\n`)
      .join("") +
    "\n| CPU per step | ms |\n| --- | --- |\n" +
    Object.entries(cpu)
      .map(([k, ms]) => `| ${k} | ${(ms / count).toFixed(2)} |\n`)
      .join(""),
);
