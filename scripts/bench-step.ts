// `npm run bench:step [-- --blocks 40] [-- --bundle A.mjs --bundle B.mjs]`: the runner's own CPU
// per step, without a server. Runs `/bin/true` steps one after the other through the runner's
// StepRun, set up as the runner program sets it up (the fork helper, the watchdog, the run's
// files on this host, its environment read once), with a client that answers every call at once,
// and reads the process's CPU time (user + system, all its threads; not the fork helper's or the
// steps'). What it measures is the runner's work around a step: its setup, the start and reaping
// of its process, its output, its report.
//
// To compare builds: bundle this script at each commit (`npx esbuild scripts/bench-step.ts
// --bundle --platform=node --format=esm --outfile=A.mjs`) and pass the bundles; they are loaded
// into one process, each with its own runner modules, and take turns in blocks of 20 steps, the
// order swapped every block, so that both meet the same load at the same minutes. Run it with
// `node --expose-gc` (the npm script does) so that each block starts from a clean young
// generation. Figures, never assertions.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { LeaseCalls } from "../runner/src/early-start.ts";
import { StepRun } from "../runner/src/exec.ts";
import { prepareLauncher, setGroupWatcher } from "../runner/src/process-group.ts";
import { RunFiles } from "../runner/src/run-files.ts";
import { keepRunnerEnv } from "../runner/src/runner-env.ts";
import { Watchdog } from "../runner/src/watchdog.ts";
import type { Lease } from "../src/shared/protocol.ts";

const argv = process.argv.slice(2);
const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
/** Steps per block: each runner runs a block in turn, the order swapped every block. */
const BLOCK = 20;
const blocks = Number(option("--blocks") ?? 40);
const bundles = argv.flatMap((a, i) => (a === "--bundle" ? [path.resolve(argv[i + 1] ?? "")] : []));

/** A client whose every call succeeds at once: the server's part is not measured here. */
const client: LeaseCalls = {
  heartbeat: async () => ({ ttlMs: 30_000, cancel: false }),
  appendLogs: async (_leaseId, _token, entries) => ({ ackedSeq: entries.at(-1)?.seq ?? 0 }),
  complete: async () => ({ accepted: true, next: [] }),
};

function lease(i: number): Lease {
  return {
    leaseId: `bench-run.${i}.1`,
    token: "t",
    runId: "bench-run",
    dagName: "bench",
    stepName: `s${i}`,
    attempt: 1,
    ttlMs: 30_000,
    heartbeatIntervalMs: 10_000,
    exec: { command: "/bin/true", shell: [], args: [], env: {}, dir: tmpdir(), maxOutputBytes: 1024 * 1024 },
  };
}

/** Sets the runner up as its program does; returns a function that runs chain step `i` to its end. */
export function prepare(): (i: number) => Promise<unknown> {
  keepRunnerEnv();
  setGroupWatcher(new Watchdog());
  prepareLauncher();
  const dir = mkdtempSync(path.join(tmpdir(), "dagflare-bench-step-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const runFiles = new RunFiles({ dir });
  // The runner's own log (stderr, batched per turn) is left out; its copy in the run's log is not.
  const log = () => {};
  return (i) => new StepRun(lease(i), { client, log, runFiles }).execute();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const sides: Array<{ label: string; run: (i: number) => Promise<unknown> }> = [];
  if (bundles.length === 0) sides.push({ label: "this tree", run: prepare() });
  for (const bundle of bundles) {
    const mod = (await import(pathToFileURL(bundle).href)) as { prepare: typeof prepare };
    sides.push({ label: path.basename(bundle), run: mod.prepare() });
  }
  const loads = [loadavg()[0] ?? 0];
  let next = 0;
  for (const side of sides) for (let i = 0; i < 30; i++) await side.run(next++);
  const perBlock = sides.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
  for (let block = 0; block < blocks; block++) {
    const turns = [...sides.entries()];
    if (block % 2 === 1) turns.reverse();
    for (const [k, side] of turns) {
      // Each block starts from an empty young generation: what it collects, its own steps left.
      gc?.();
      const cpu = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < BLOCK; i++) await side.run(next++);
      const used = process.cpuUsage(cpu);
      perBlock[k]?.cpu.push((used.user + used.system) / 1000 / BLOCK);
      perBlock[k]?.wall.push((performance.now() - t) / BLOCK);
    }
    if (block % 10 === 9) loads.push(loadavg()[0] ?? 0);
  }
  loads.push(loadavg()[0] ?? 0);
  console.log(
    `\n${blocks} blocks of ${BLOCK} chain steps of /bin/true per runner, interleaved; 1-minute load ` +
      `${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}${gc ? "" : " (run with --expose-gc to start each block from a clean young generation)"}.\n`,
  );
  console.log("| runner | runner CPU per step, median of blocks (ms) | mean (ms) | wall per step, median (ms) |");
  console.log("| --- | --- | --- | --- |");
  for (const [k, side] of sides.entries()) {
    const r = perBlock[k];
    if (!r) continue;
    const mean = r.cpu.reduce((a, b) => a + b, 0) / r.cpu.length;
    console.log(`| ${side.label} | ${median(r.cpu).toFixed(3)} | ${mean.toFixed(3)} | ${median(r.wall).toFixed(2)} |`);
  }
  process.exit(0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
