// `npm run bench [-- --quick] [-- --direct] [-- --out FILE] [-- --only S1,S3] [-- --lists] [-- --cmd CMD]
// [-- --no-early-start] [-- --early-start-depth N]`: the benchmark of
// BENCHMARKS.md. Starts the local stack (wrangler dev, or with --direct workerd through Miniflare
// without the dev proxy, and a real runner process), runs the scenarios, prints a table and
// writes the figures to a JSON file. Figures, never assertions.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { benchLists } from "./bench-lists.mjs";
import { startDirectWorker } from "./direct-worker.mjs";
import { apiClient, applyMigrations, buildRunner, startRunner, startWorker } from "./stack.mjs";

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = flag("--quick");
const outFile = option("--out") ?? "bench-results.json";
const only = option("--only")?.split(",");
const direct = flag("--direct");
// What each light step runs: the shell builtin `true` by default (the figures of BENCHMARKS.md
// so far); `--cmd /bin/true` is a real process, as the peer benchmark runs, exec'd without a shell.
const cmd = option("--cmd") ?? "true";
// The runner's early start of a chain's next step (on by default), off for an A/B comparison, or
// held to a depth (`--early-start-depth N`: how far a chain runs ahead of its last leased step).
const depth = option("--early-start-depth");
const runnerArgs = [
  ...(flag("--no-early-start") ? ["--no-early-start"] : []),
  ...(depth ? ["--early-start-depth", depth] : []),
];
const yamlCmd = JSON.stringify(cmd);
const host = direct ? "workerd through Miniflare" : "wrangler dev";

const TOKEN = "bench-user";
const RUNNER_TOKEN = "bench-runner";
const RUNNER_SLOTS = 10;
const TERMINAL = ["succeeded", "failed", "aborted", "partially_succeeded"];

const ms = (iso) => (iso && iso !== "-" ? Date.parse(iso) : Number.NaN);
function pct(xs, p) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const round = (x, digits = 1) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

// ---- DAG shapes ---------------------------------------------------------------------------

const chain = (n, cmd) =>
  `steps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: ${cmd}\n`).join("")}`;

const independent = (n) =>
  `type: graph\nsteps:\n${Array.from({ length: n }, (_, i) => `  - name: p${i}\n    command: ${yamlCmd}\n`).join("")}`;

/** Layers of `width` steps; each step depends on two steps of the layer before. */
function wideAndDeep(layers, width) {
  const lines = ["type: graph", "steps:"];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      lines.push(`  - name: l${l}_${i}`, `    command: ${yamlCmd}`);
      if (l > 0) lines.push(`    depends: [l${l - 1}_${i}, l${l - 1}_${(i + 1) % width}]`);
    }
  }
  return `${lines.join("\n")}\n`;
}

// ---- figures ------------------------------------------------------------------------------

/** Per-step overheads of finished runs: ready -> process start, process exit -> next ready. */
function overheads(runs) {
  const startOverhead = [];
  const handoff = [];
  // A step's last dependency's exit to its own process start: the engine's whole part of a chain
  // step (start overhead + hand-off, also when the step started before it was ready).
  const gap = [];
  let execMs = 0;
  for (const d of runs) {
    const byName = new Map(d.nodes.map((n) => [n.step.name, n]));
    for (const n of d.nodes) {
      startOverhead.push(n.processStartedAt - n.readyAt);
      execMs += n.processExitedAt - n.processStartedAt;
      const deps = n.step.depends.map((x) => byName.get(x)).filter(Boolean);
      if (deps.length) handoff.push(n.readyAt - Math.max(...deps.map((x) => x.processExitedAt)));
      if (deps.length) gap.push(n.processStartedAt - Math.max(...deps.map((x) => x.processExitedAt)));
    }
  }
  return { startOverhead, handoff, gap, execMs };
}

function summarise(id, title, runs, extra = {}) {
  const first = Math.min(...runs.map((d) => ms(d.startedAt)));
  const last = Math.max(...runs.map((d) => ms(d.finishedAt)));
  const wallMs = last - first;
  const steps = runs.reduce((n, d) => n + d.nodes.length, 0);
  const o = overheads(runs);
  return {
    id,
    title,
    status: [...new Set(runs.map((d) => d.statusLabel))].join(","),
    wallMs,
    steps,
    stepsPerSec: round((steps / wallMs) * 1000),
    startP50Ms: pct(o.startOverhead, 50),
    startP99Ms: pct(o.startOverhead, 99),
    handoffP50Ms: pct(o.handoff, 50),
    handoffP99Ms: pct(o.handoff, 99),
    gapP50Ms: pct(o.gap, 50),
    executionShare: round(o.execMs / wallMs, 3),
    ...extra,
  };
}

/** p50 of the per-step overhead (start + handoff) over the first and the last tenth of a chain's steps. */
function growth(run) {
  const byName = new Map(run.nodes.map((n) => [n.step.name, n]));
  const perStep = run.nodes.map((n) => {
    const dep = byName.get(n.step.depends[0]);
    return n.processStartedAt - n.readyAt + (dep ? n.readyAt - dep.processExitedAt : 0);
  });
  const tenth = Math.max(1, Math.floor(perStep.length / 10));
  const head = pct(perStep.slice(1, tenth + 1), 50);
  const tail = pct(perStep.slice(-tenth), 50);
  return { firstTenthP50Ms: head, lastTenthP50Ms: tail };
}

// ---- the run ------------------------------------------------------------------------------

async function main() {
  const stateDir = mkdtempSync(path.join(tmpdir(), "dagflare-bench-"));
  buildRunner();
  const workerOpts = {
    port: 8790 + Math.floor(Math.random() * 100),
    persistTo: stateDir,
    vars: { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN },
  };
  if (!direct) applyMigrations(stateDir);
  const worker = direct ? await startDirectWorker(workerOpts) : await startWorker(workerOpts);
  const runner = startRunner({
    server: worker.url,
    token: RUNNER_TOKEN,
    concurrency: RUNNER_SLOTS,
    id: "bench-runner",
    args: runnerArgs,
  });
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${runner.child.pid}/status`, "utf8"))?.[1] ?? 0);
      peakRssKb = Math.max(peakRssKb, kb);
    } catch {
      // no /proc on this system, or the runner is gone: the figure stays 0
    }
  }, 100);

  const api = apiClient(worker.url, TOKEN);
  const start = async (name, spec) => (await api("POST", "/dag-runs", { spec, name })).dagRunId;
  async function finish(name, runId, timeoutMs = 600_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { dagRunDetails: d } = await api("GET", `/dag-runs/${name}/${runId}`);
      if (TERMINAL.includes(d.statusLabel)) return d;
      if (Date.now() > deadline) throw new Error(`${name} ${runId} did not finish`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const runOnce = async (name, spec) => finish(name, await start(name, spec));

  // Warm the stack (first isolate start, D1 and Durable Object creation) before measuring.
  await runOnce("bench-warmup", chain(3, "true"));

  // The floor under every figure: one HTTP round trip to the Worker (through `wrangler dev`
  // unless --direct); GET /health does no work.
  const health = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await (await fetch(`${worker.url}/api/v2/health`)).text();
    health.push(performance.now() - t);
  }
  const floor = { healthRoundTripP50Ms: round(pct(health, 50), 2) };

  const sizes = quick ? { s3: 100, s4: 100, s5: 20, s6: [10, 50] } : { s3: 400, s4: 400, s5: 100, s6: [40, 50] };
  const scenarios = {
    S1: async () => summarise("S1", `40 sequential \`${cmd}\``, [await runOnce("bench-s1", chain(40, cmd))]),
    S2: async () =>
      summarise("S2", "10 sequential steps of ~0.3 s compute", [
        await runOnce("bench-s2", chain(10, `node -e "const e=Date.now()+300;while(Date.now()<e);"`)),
      ]),
    S3: async () => {
      const d = await runOnce("bench-s3", chain(sizes.s3, cmd));
      return summarise("S3", `${sizes.s3}-step chain`, [d], growth(d));
    },
    S4: async () =>
      summarise("S4", `${sizes.s4} independent steps, ${RUNNER_SLOTS} slots`, [
        await runOnce("bench-s4", independent(sizes.s4)),
      ]),
    S5: async () => {
      const ids = await Promise.all(Array.from({ length: sizes.s5 }, () => start("bench-s5", chain(5, cmd))));
      // One light poll for all runs, so that the benchmark's own polling does not load the server.
      for (;;) {
        const { dagRuns } = await api("GET", "/dag-runs?name=bench-s5&status=running,queued,not_started");
        if (dagRuns.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const runs = await Promise.all(ids.map((id) => finish("bench-s5", id)));
      return summarise("S5", `${sizes.s5} concurrent runs of a 5-step chain`, runs);
    },
    S6: async () => {
      const [layers, width] = sizes.s6;
      const spec = wideAndDeep(layers, width);
      const t0 = performance.now();
      const v = await api("POST", "/dags/validate", { spec, name: "bench-s6" });
      const validateMs = performance.now() - t0;
      if (!v.valid) throw new Error(v.errors.join("\n"));
      const t1 = performance.now();
      const runId = await start("bench-s6", spec);
      const submitMs = performance.now() - t1;
      const d = await finish("bench-s6", runId);
      const firstLayer = d.nodes.slice(width, width * 2);
      const lastLayer = d.nodes.slice(-width);
      const o = (nodes) =>
        pct(
          nodes.map((n) => n.processStartedAt - n.readyAt),
          50,
        );
      return summarise("S6", `${layers * width}-step wide and deep DAG`, [d], {
        validateMs: round(validateMs),
        submitMs: round(submitMs),
        secondLayerStartP50Ms: o(firstLayer),
        lastLayerStartP50Ms: o(lastLayer),
      });
    },
  };

  const results = [];
  for (const [id, run] of Object.entries(scenarios)) {
    if (only && !only.includes(id)) continue;
    process.stderr.write(`running ${id}...\n`);
    results.push(await run());
  }
  clearInterval(sampler);
  for (const r of results) r.runnerPeakRssMb = round(peakRssKb / 1024);
  runner.child.kill("SIGTERM");
  await worker.stop();
  const shown = [
    "id",
    "wallMs",
    "steps",
    "stepsPerSec",
    "startP50Ms",
    "startP99Ms",
    "handoffP50Ms",
    "handoffP99Ms",
    "gapP50Ms",
    "executionShare",
  ];
  console.table(results.map((r) => Object.fromEntries(shown.map((k) => [k, r[k]]))));
  for (const r of results) {
    const extra = Object.entries(r).filter(([k]) =>
      [
        "firstTenthP50Ms",
        "lastTenthP50Ms",
        "validateMs",
        "submitMs",
        "secondLayerStartP50Ms",
        "lastLayerStartP50Ms",
      ].includes(k),
    );
    if (extra.length) console.log(`${r.id}: ${extra.map(([k, v]) => `${k}=${v}`).join(" ")}`);
  }
  console.log(`runner peak RSS: ${round(peakRssKb / 1024)} MB`);
  console.log(`floor: one HTTP round trip through ${host} (GET /health), p50 ${floor.healthRoundTripP50Ms} ms`);
  writeFileSync(
    outFile,
    `${JSON.stringify({ date: new Date().toISOString(), host, quick, floor, results }, null, 2)}\n`,
  );
  console.log(`figures written to ${outFile}`);
}

// --lists: the list endpoints with 1,000 DAGs and 10,000 runs (scripts/bench-lists.mjs).
if (flag("--lists")) await benchLists({ outFile: option("--out") ?? "bench-results-lists.json" });
else await main();
