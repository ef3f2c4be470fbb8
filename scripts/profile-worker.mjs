// `npm run bench:profile [-- --steps 400] [-- --reps 3] [-- --only wide,chain] [-- --poll-ms 25]
// [-- --no-profile] [-- --wrangler] [-- --runner-args "--launcher spawn"] [-- --runner-node-args
// "--perf-basic-prof"] [-- --runner-bundle FILE] [-- --out DIR]`:
// where a step's CPU and time go. Runs the Worker bundle on workerd through Miniflare (as `npm
// run bench -- --direct`; with `--wrangler`, under `wrangler dev` as a user runs it) with one
// real runner of 10 slots, and for each scenario (400 independent `/bin/true` steps; a chain of
// as many):
//
// - `--reps` runs without the profilers, each measuring the CPU time per step of each process
//   (utime + stime from /proc): workerd (and `wrangler dev`'s Node), the runner, its fork
//   helper, and the steps' processes (the children the helper reaped); with the 1-minute load
//   average at its start, and how the run used the runner's slots (its trace: slot-use.mjs);
// - one run under V8's sampling profiler, in the Worker's isolate (not with `--wrangler`) and in
//   the runner, each written as a `.cpuprofile` (Chrome DevTools opens it) and ranked by self
//   time per function and per source module.
//
// The run is polled the way the peer benchmark does (the run list in D1, every 25 ms), so the
// figures are those of the steps and not of reading the run's details. Figures, never assertions.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { inspector, moduleOfLine, printRanking, rank } from "./cpu-profile.mjs";
import { startDirectWorker } from "./direct-worker.mjs";
import { cpuSince, descendants } from "./process-cpu.mjs";
import { printSlotUse, readTrace, slotUse } from "./slot-use.mjs";
import { apiClient, applyMigrations, buildRunner, ROOT, startRunner, startWorker } from "./stack.mjs";

const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const STEPS = Number(option("--steps") ?? 400);
const REPS = Number(option("--reps") ?? 3);
const SLOTS = 10;
const only = option("--only")?.split(",") ?? ["wide", "chain"];
// The peer benchmark polls every 25 ms; each poll is a request the Worker serves (auth, a D1
// query), so a chain's long wall adds polls to its steps' CPU.
const POLL_MS = Number(option("--poll-ms") ?? 25);
// Only the CPU per step, without the profiled run (for before/after comparisons).
const profiling = !argv.includes("--no-profile");
const wrangler = argv.includes("--wrangler");
const runnerArgs = option("--runner-args")?.split(" ").filter(Boolean) ?? [];
// Node's own flags for the runner (`--perf-basic-prof`, for `perf record` beside it).
const runnerNodeArgs = option("--runner-node-args")?.split(" ").filter(Boolean) ?? [];
const outDir = option("--out") ?? path.join(tmpdir(), `dagflare-profile-${Date.now()}`);
const TOKEN = "profile-user";
const RUNNER_TOKEN = "profile-runner";

const stepsYaml = (n, graph) =>
  `${graph ? "type: graph\n" : ""}steps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: /bin/true\n`).join("")}`;
const scenarios = { wide: stepsYaml(STEPS, true), chain: stepsYaml(STEPS, false) };

/** The processes whose CPU is counted, by name: [pid, "own" | "children"]. */
function processParts(runnerPid) {
  const ours = descendants();
  const workerds = ours.filter((p) => p.comm?.startsWith("workerd"));
  if (workerds.length === 0) throw new Error(`no workerd process under ${process.pid}`);
  const underRunner = descendants(runnerPid);
  const helper = underRunner.find((p) => p.argv0 === "dagflare-fork-helper");
  const watchdog = underRunner.find((p) => p.ppid === runnerPid && p.comm === "sh");
  const parts = Object.fromEntries(
    workerds.map((p, i) => [`workerd${workerds.length > 1 ? ` ${i + 1}` : ""}`, [p.pid, "own"]]),
  );
  // wrangler dev's own Node (its proxy and the dev server), beside the runner's.
  ours
    .filter((q) => q.comm === "node" && q.pid !== runnerPid)
    .forEach((p, i) => {
      parts[`wrangler's node ${i + 1}`] = [p.pid, "own"];
    });
  parts.runner = [runnerPid, "own"];
  if (helper) {
    parts["fork helper"] = [helper.pid, "own"];
    parts["steps' processes"] = [helper.pid, "children"];
  } else parts["steps' processes"] = [runnerPid, "children"];
  if (watchdog) parts.watchdog = [watchdog.pid, "own"];
  return parts;
}

async function startServer(inspectorPort) {
  const port = 8890 + Math.floor(Math.random() * 100);
  const vars = { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN };
  if (!wrangler) return startDirectWorker({ port, inspectorPort, vars });
  const persistTo = mkdtempSync(path.join(tmpdir(), "dagflare-profile-state-"));
  applyMigrations(persistTo);
  return { ...(await startWorker({ port, persistTo, vars })), bundle: undefined };
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  // One statement a line, so the runner's profile is ranked by source module.
  // `--runner-bundle`: one built before (`buildRunner(file, { readable: true })`), for A/B runs.
  const runnerBundle = option("--runner-bundle") ?? path.join(ROOT, "runner", "dist", "runner-profile.mjs");
  if (!option("--runner-bundle")) buildRunner(runnerBundle, { readable: true });
  const inspectorPort = 9300 + Math.floor(Math.random() * 100);
  const runnerInspectorPort = inspectorPort + 100;
  const worker = await startServer(inspectorPort);
  const traceFile = path.join(outDir, "runner-trace.jsonl");
  const runner = startRunner({
    server: worker.url,
    token: RUNNER_TOKEN,
    concurrency: SLOTS,
    id: "profile-runner",
    bundle: runnerBundle,
    args: runnerArgs,
    nodeArgs: [...runnerNodeArgs, ...(profiling ? [`--inspect=127.0.0.1:${runnerInspectorPort}`] : [])],
    env: { DAGFLARE_RUNNER_TRACE: traceFile },
  });
  const api = apiClient(worker.url, TOKEN);
  const run = async (name, spec) => {
    const { dagRunId } = await api("POST", "/dag-runs", { spec, name });
    for (;;) {
      const { dagRuns } = await api("GET", `/dag-runs?name=${name}&dagRunId=${dagRunId}`);
      const status = dagRuns[0]?.statusLabel;
      if (status === "succeeded") return dagRunId;
      if (["failed", "aborted", "partially_succeeded"].includes(status)) throw new Error(`${name}: ${status}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  const results = {};
  try {
    await run("profile-warmup", stepsYaml(3, false));
    const parts = processParts(runner.child.pid);
    console.log(`runner pid ${runner.child.pid}`);
    const profilers = [];
    if (profiling && !wrangler)
      profilers.push({
        name: "worker",
        cdp: await inspector(inspectorPort, (ts) => ts.find((t) => t.id.includes("dagflare"))),
        moduleOf: moduleOfLine(worker.bundle),
        file: "index.js",
      });
    if (profiling)
      profilers.push({
        name: "runner",
        cdp: await inspector(runnerInspectorPort),
        moduleOf: moduleOfLine(runnerBundle),
        file: path.basename(runnerBundle),
      });
    for (const p of profilers) {
      await p.cdp.send("Profiler.enable");
      await p.cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    }
    for (const name of only) {
      const spec = scenarios[name];
      const reps = [];
      for (let i = 0; i < REPS; i++) {
        const load1 = Number(loadavg()[0].toFixed(2));
        const took = cpuSince(parts);
        const t0 = performance.now();
        const runId = await run(`profile-${name}`, spec);
        const wallMs = Math.round(performance.now() - t0);
        const cpuPerStepMs = Object.fromEntries(
          Object.entries(took()).map(([k, ms]) => [k, Number((ms / STEPS).toFixed(2))]),
        );
        // The runner writes its trace once a second.
        await new Promise((r) => setTimeout(r, 1_100));
        const slots = name === "wide" ? slotUse(readTrace(traceFile), runId, SLOTS) : undefined;
        reps.push({ load1, wallMs, cpuPerStepMs, slots });
        const total = Object.values(cpuPerStepMs).reduce((a, b) => a + b, 0);
        console.log(`${name}: ${STEPS} steps, wall ${wallMs} ms, load ${load1}; CPU per step ${total.toFixed(2)} ms:`);
        for (const [k, ms] of Object.entries(cpuPerStepMs)) console.log(`  ${ms.toFixed(2).padStart(6)} ms  ${k}`);
        if (name === "wide") printSlotUse(slots, SLOTS);
      }
      results[name] = { steps: STEPS, reps };
      if (profilers.length === 0) continue;
      for (const p of profilers) await p.cdp.send("Profiler.start");
      await run(`profile-${name}`, spec);
      for (const p of profilers) {
        const { profile } = await p.cdp.send("Profiler.stop");
        const file = path.join(outDir, `${name}-${p.name}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        const ranked = rank(profile, p.moduleOf, p.file);
        results[name][p.name] = { profile: file, ...ranked };
        printRanking(`${name}, ${p.name}`, ranked, file);
      }
    }
    for (const p of profilers) p.cdp.close();
  } finally {
    runner.child.kill("SIGTERM");
    await worker.stop();
  }
  writeFileSync(
    path.join(outDir, "profile.json"),
    `${JSON.stringify({ date: new Date().toISOString(), wrangler, runnerBundle, runnerArgs, results }, null, 2)}\n`,
  );
  console.log(`\nwritten to ${outDir}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
