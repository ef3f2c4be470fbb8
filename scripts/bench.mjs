// `npm run bench [-- --quick] [-- --out FILE]`: the benchmark. Starts the local stack (wrangler
// dev and real runner processes), runs the scenarios of BENCHMARKS.md, prints a table and writes
// the figures to a JSON file. Figures, never assertions.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, buildRunner, startRunner, startWorker } from "./stack.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const outIndex = argv.indexOf("--out");
const outFile = outIndex >= 0 ? argv[outIndex + 1] : "bench-results.json";
const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1]?.split(",") : undefined;

const TOKEN = "bench-user";
const RUNNER_TOKEN = "bench-runner";

const ms = (iso) => (iso && iso !== "-" ? Date.parse(iso) : Number.NaN);
const pct = (xs, p) => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main() {
  const stateDir = mkdtempSync(path.join(tmpdir(), "dagflare-bench-"));
  buildRunner();
  applyMigrations(stateDir);
  const worker = await startWorker({
    port: 8790 + Math.floor(Math.random() * 100),
    persistTo: stateDir,
    vars: { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN },
  });
  const runner = startRunner({ server: worker.url, token: RUNNER_TOKEN, concurrency: 10, id: "bench-runner" });
  const api = async (method, p, body) => {
    const res = await fetch(`${worker.url}/api/v2${p}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const peak = { rssKb: 0 };
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${runner.child.pid}/status`, "utf8");
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak.rssKb = Math.max(peak.rssKb, kb);
    } catch {
      // the runner is gone or /proc is not there: no figure
    }
  }, 200);

  async function runToEnd(name, spec, timeoutMs = 300_000) {
    await api("POST", "/dag-runs", { spec, name });
    const { dagRunDetails: latest } = await api("GET", `/dag-runs/${name}/latest`);
    const runId = latest.dagRunId;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { dagRunDetails: d } = await api("GET", `/dag-runs/${name}/${runId}`);
      if (["succeeded", "failed", "aborted", "partially_succeeded"].includes(d.statusLabel)) return d;
      if (Date.now() > deadline) throw new Error(`${name} did not finish`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Overheads from a finished run's nodes: ready -> process start, process exit -> next ready. */
  function figures(d) {
    const nodes = d.nodes;
    const wallMs = ms(d.finishedAt) - ms(d.startedAt);
    const startOverhead = nodes.map((n) => n.processStartedAt - n.readyAt);
    const finishOverhead = nodes.map((n) => n.readyToNextMs).filter((x) => x !== undefined);
    const execMs = nodes.reduce((sum, n) => sum + (n.processExitedAt - n.processStartedAt), 0);
    return { wallMs, steps: nodes.length, startOverhead, finishOverhead, execMs };
  }

  const chain = (n, cmd) =>
    `steps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: ${cmd}\n`).join("")}`;
  const scenarios = [
    { id: "S1", title: "40 sequential `true`", spec: chain(40, "true") },
    {
      id: "S2",
      title: "10 sequential steps of ~0.3 s compute",
      spec: chain(10, `node -e "const e=Date.now()+300;while(Date.now()<e);"`),
    },
    { id: "S3", title: "400-step chain", spec: chain(quick ? 100 : 400, "true") },
    {
      id: "S4",
      title: "400 independent steps, 10 slots",
      spec: `type: graph\nsteps:\n${Array.from({ length: quick ? 100 : 400 }, (_, i) => `  - name: p${i}\n    command: "true"\n`).join("")}`,
    },
  ];
  const results = [];
  for (const sc of scenarios) {
    if (only && !only.includes(sc.id)) continue;
    const d = await runToEnd(`bench-${sc.id.toLowerCase()}`, sc.spec);
    const f = figures(d);
    results.push({
      id: sc.id,
      title: sc.title,
      status: d.statusLabel,
      wallMs: f.wallMs,
      steps: f.steps,
      stepsPerSec: (f.steps / f.wallMs) * 1000,
      startOverheadP50Ms: pct(f.startOverhead, 50),
      startOverheadP99Ms: pct(f.startOverhead, 99),
      executionShare: f.execMs / f.wallMs,
      runnerPeakRssMb: peak.rssKb / 1024,
    });
  }
  clearInterval(sampler);
  runner.child.kill("SIGTERM");
  await worker.stop();
  console.table(results);
  writeFileSync(outFile, `${JSON.stringify({ date: new Date().toISOString(), quick, results }, null, 2)}\n`);
  console.log(`figures written to ${outFile}`);
}

await main();
