// `npm run bench:profile [-- --steps 400] [-- --reps 3] [-- --only wide,chain] [-- --poll-ms 25] [-- --no-profile] [-- --out DIR]`:
// where the Worker's CPU goes per step. Runs the Worker bundle on workerd through Miniflare
// (as `npm run bench -- --direct`) with its V8 inspector open, one real runner with 10 slots,
// and for each scenario (400 independent `/bin/true` steps; a chain of as many):
//
// - `--reps` runs without the profiler, each measuring workerd's CPU time (utime + stime from
//   /proc) per step, with the 1-minute load average at its start;
// - one run under V8's sampling profiler, written as a `.cpuprofile` (Chrome DevTools opens it),
//   ranked by self time per function and per source module of the bundle.
//
// The run is polled the way the peer benchmark does (the run list in D1, every 25 ms), so the
// figures are those of the steps and not of reading the run's details. Figures, never assertions.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { startDirectWorker } from "./direct-worker.mjs";
import { apiClient, buildRunner, startRunner } from "./stack.mjs";

const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const STEPS = Number(option("--steps") ?? 400);
const REPS = Number(option("--reps") ?? 3);
const only = option("--only")?.split(",") ?? ["wide", "chain"];
// The peer benchmark polls every 25 ms; each poll is a request the Worker serves (auth, a D1
// query), so a chain's long wall adds polls to its steps' CPU.
const POLL_MS = Number(option("--poll-ms") ?? 25);
// Only the CPU per step, without the profiled run (for before/after comparisons).
const profiling = !argv.includes("--no-profile");
const outDir = option("--out") ?? path.join(tmpdir(), `dagflare-profile-${Date.now()}`);
const TOKEN = "profile-user";
const RUNNER_TOKEN = "profile-runner";
const TICKS_PER_SEC = 100; // Linux's USER_HZ, which /proc reports CPU time in

const stepsYaml = (n, graph) =>
  `${graph ? "type: graph\n" : ""}steps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: /bin/true\n`).join("")}`;
const scenarios = { wide: stepsYaml(STEPS, true), chain: stepsYaml(STEPS, false) };

/** The workerd process Miniflare started (a descendant of this process). */
function workerdPid() {
  const procs = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(readFileSync(`/proc/${entry}/stat`, "utf8").trim()) ?? [];
      procs.push({ pid: Number(entry), comm, ppid: Number(rest?.split(" ")[1]) });
    } catch {
      // a process that ended while we looked
    }
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (ours.has(p.ppid) && !ours.has(p.pid)) {
        ours.add(p.pid);
        grew = true;
      }
    }
  }
  const found = procs.find((p) => ours.has(p.pid) && p.comm?.startsWith("workerd"));
  if (!found) throw new Error(`no workerd process under ${process.pid}`);
  return found.pid;
}

/** utime + stime of a process, in ms. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SEC;
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function inspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => t.id.includes("dagflare")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      pending.set(n, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** The source module of each line of the bundle, from esbuild's `// path` markers. */
function moduleOfLine(bundle) {
  const lines = readFileSync(bundle, "utf8").split("\n");
  const marks = [];
  lines.forEach((l, i) => {
    const m = /^\/\/ ((?:src|node_modules|migrations|\.\.)\S*\.(?:[cm]?js|ts|json|sql))$/.exec(l);
    if (m) marks.push([i, m[1].replace(/^.*node_modules\//, "npm:")]);
  });
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found = "(bundle)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid][0] <= line) {
        found = marks[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** Self time per function and per module, ms, from a V8 CPU profile; idle left out. */
function rank(profile, moduleOf) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const fns = new Map();
  const modules = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === "(idle)") continue;
    total += ms;
    const mod = url.endsWith("index.js") ? moduleOf(lineNumber) : url || "(native)";
    const fn = `${functionName || "(anonymous)"} ${mod}:${lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
    const group = mod.startsWith("npm:")
      ? mod
          .split("/")
          .slice(0, mod.startsWith("npm:@") ? 2 : 1)
          .join("/")
      : mod;
    modules.set(group, (modules.get(group) ?? 0) + ms);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Number(ms.toFixed(1)), share: Number((ms / total).toFixed(3)) }));
  return { totalMs: Number(total.toFixed(1)), functions: top(fns, 40), modules: top(modules, 25) };
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  buildRunner();
  const inspectorPort = 9300 + Math.floor(Math.random() * 100);
  const worker = await startDirectWorker({
    port: 8890 + Math.floor(Math.random() * 100),
    inspectorPort,
    vars: { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN },
  });
  const runner = startRunner({ server: worker.url, token: RUNNER_TOKEN, concurrency: 10, id: "profile-runner" });
  const pid = workerdPid();
  const api = apiClient(worker.url, TOKEN);
  const run = async (name, spec) => {
    const { dagRunId } = await api("POST", "/dag-runs", { spec, name });
    for (;;) {
      const { dagRuns } = await api("GET", `/dag-runs?name=${name}&dagRunId=${dagRunId}`);
      const status = dagRuns[0]?.statusLabel;
      if (status === "succeeded") return;
      if (["failed", "aborted", "partially_succeeded"].includes(status)) throw new Error(`${name}: ${status}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  const results = {};
  try {
    await run("profile-warmup", stepsYaml(3, false));
    const cdp = await inspector(inspectorPort);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    const moduleOf = moduleOfLine(worker.bundle);
    for (const name of only) {
      const spec = scenarios[name];
      const reps = [];
      for (let i = 0; i < REPS; i++) {
        const load1 = Number(loadavg()[0].toFixed(2));
        const cpu0 = cpuMs(pid);
        const t0 = performance.now();
        await run(`profile-${name}`, spec);
        const wallMs = Math.round(performance.now() - t0);
        const cpuPerStepMs = Number(((cpuMs(pid) - cpu0) / STEPS).toFixed(2));
        reps.push({ load1, wallMs, cpuPerStepMs });
        console.log(`${name}: ${STEPS} steps, wall ${wallMs} ms, workerd CPU ${cpuPerStepMs} ms/step, load ${load1}`);
      }
      results[name] = { steps: STEPS, reps };
      if (!profiling) continue;
      await cdp.send("Profiler.start");
      await run(`profile-${name}`, spec);
      const { profile } = await cdp.send("Profiler.stop");
      const file = path.join(outDir, `${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const ranked = rank(profile, moduleOf);
      results[name] = { steps: STEPS, reps, profile: file, ...ranked };
      console.log(`\n${name}: self time under the profiler, ${ranked.totalMs} ms (${file})`);
      console.log("by module:");
      for (const m of ranked.modules.slice(0, 15))
        console.log(`  ${m.ms.toFixed(1).padStart(8)} ms ${(m.share * 100).toFixed(1).padStart(5)}%  ${m.name}`);
      console.log("by function:");
      for (const f of ranked.functions.slice(0, 25))
        console.log(`  ${f.ms.toFixed(1).padStart(8)} ms ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
    }
    cdp.close();
  } finally {
    runner.child.kill("SIGTERM");
    await worker.stop();
  }
  writeFileSync(
    path.join(outDir, "profile.json"),
    `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`,
  );
  console.log(`\nwritten to ${outDir}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
