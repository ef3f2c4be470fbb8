// `npm run bench:ui`: the web UI's figures. Builds the UI and reports its bundle (raw and gzip,
// the entry chunk and each lazy chunk); starts the local stack on a fresh state; creates 1,000
// DAGs through the API, runs a 2,000-step DAG and some one-step `true` runs on real runners,
// and fills the run history up to 10,000 runs by writing the rest into the run index (D1):
// real runs go at a few per second on a shared 2-core machine, and the list pages read only
// the index. Then it loads pages in Debian's Chromium and times the first useful paint.
// Figures, never assertions. Environment: BENCH_UI_DAGS, BENCH_UI_RUNS (history size),
// BENCH_UI_REAL_RUNS (how many of them run for real), BENCH_UI_LOADS (page loads per figure),
// BENCH_UI_RUN_SELECTOR (what counts as the run page's first useful paint), CHROMIUM_PATH.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { applyMigrations, BIN, buildRunner, ROOT, startRunner, startWorker, stopGroup, toolEnv } from "./stack.mjs";

const TOKEN = "bench-ui-user";
const RUNNER_TOKEN = "bench-ui-runner";
const DAGS = Number(process.env.BENCH_UI_DAGS ?? 1_000);
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 10_000);
const REAL_RUNS = Number(process.env.BENCH_UI_REAL_RUNS ?? 200);
const LOADS = Number(process.env.BENCH_UI_LOADS ?? 5);
/** The run page's first useful paint: the step table's first row, or the graph's first node. */
const RUN_SELECTOR =
  process.env.BENCH_UI_RUN_SELECTOR ?? 'table[aria-label="steps"] tbody tr:not(.pad-row) td, .react-flow__node';
const DAG_LIST_SELECTOR = 'table[aria-label="DAGs"] tbody tr td a';
const RUNS_LIST_SELECTOR = 'table[aria-label="runs"] tbody tr td a';
const HEADING_SELECTOR = "main h1";

const log = (s) => process.stderr.write(`${s}\n`);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- the bundle ---------------------------------------------------------------------------

function bundle() {
  const res = spawnSync(path.join(BIN, "vite"), ["build", "ui", "--logLevel", "warn"], {
    cwd: ROOT,
    env: toolEnv(),
    stdio: "inherit",
  });
  if (res.status !== 0) throw new Error("vite build failed");
  const dist = path.join(ROOT, "ui", "dist");
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  const entry = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]));
  const files = readdirSync(path.join(dist, "assets")).map((f) => {
    const body = readFileSync(path.join(dist, "assets", f));
    return {
      file: f,
      entry: entry.has(`assets/${f}`),
      raw: statSync(path.join(dist, "assets", f)).size,
      gzip: gzipSync(body).length,
    };
  });
  const sum = (xs, k) => xs.reduce((n, x) => n + x[k], 0);
  const entryFiles = files.filter((f) => f.entry);
  return {
    entry: { raw: sum(entryFiles, "raw"), gzip: sum(entryFiles, "gzip"), files: entryFiles },
    lazy: files.filter((f) => !f.entry),
    total: { raw: sum(files, "raw"), gzip: sum(files, "gzip") },
  };
}

// ---- data through the API -----------------------------------------------------------------

async function pool(n, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

function wideAndDeep(layers, width) {
  const lines = ["description: 2,000 steps, 40 layers of 50", "type: graph", "steps:"];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      lines.push(`  - name: l${l}_${i}`, '    command: "true"');
      if (l > 0) lines.push(`    depends: [l${l - 1}_${i}, l${l - 1}_${(i + 1) % width}]`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const dagSpec = (i) =>
  `description: DAG number ${i}\ntags: [team-${i % 10}, ${i % 2 ? "odd" : "even"}]\n${
    i % 4 === 0 ? 'schedule: "0 * * * *"\n' : ""
  }steps:\n  - name: s\n    command: "true"\n`;

const STATUSES = ["succeeded", "failed", "succeeded", "aborted", "succeeded", "partially_succeeded"];

/** `n` finished runs in the run index, spread over the DAGs, a minute apart, before the real ones. */
function seedRuns(names, n) {
  const lines = [];
  const t0 = Date.now() - (n + 60) * 60_000;
  for (let start = 0; start < n; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(n, start + 500); i++) {
      const at = t0 + i * 60_000;
      const status = STATUSES[i % STATUSES.length];
      rows.push(
        `('seeded-run-${i}', '${names[i % names.length]}', '${status}', '', ${at}, ${at + 1000}, ${at + 5000}, ${at + 5000})`,
      );
    }
    lines.push(
      `INSERT INTO dag_runs (run_id, dag_name, status, params, queued_at, started_at, finished_at, updated_at) VALUES\n${rows.join(",\n")};`,
    );
  }
  const file = path.join(stateDir, "seed-runs.sql");
  writeFileSync(file, `${lines.join("\n")}\n`);
  const res = spawnSync(
    path.join(BIN, "wrangler"),
    ["d1", "execute", "DB", "--local", "--persist-to", stateDir, "--file", file],
    {
      cwd: ROOT,
      env: toolEnv({ CI: "true" }),
      encoding: "utf8",
    },
  );
  if (res.status !== 0) throw new Error(`seeding runs failed:\n${res.stdout}\n${res.stderr}`);
}

async function load(call) {
  const t0 = Date.now();
  const names = Array.from({ length: DAGS }, (_, i) => `ui-dag-${String(i).padStart(4, "0")}`);
  await pool(DAGS, 16, (i) => call("POST", "/dags", { name: names[i], spec: dagSpec(i) }));
  const tDags = Date.now();
  log(`${DAGS} DAGs in ${((tDags - t0) / 1000).toFixed(1)} s; starting a 2,000-step run and ${REAL_RUNS} runs...`);
  await call("POST", "/dags", { name: "big-graph", spec: wideAndDeep(40, 50) });
  const { dagRunId: bigRun } = await call("POST", "/dags/big-graph/start", {});
  await pool(REAL_RUNS, 16, (k) => call("POST", `/dags/${names[k % DAGS]}/start`, {}));
  for (;;) {
    const done = await call("GET", "/dag-runs?name=ui-dag-&status=4&perPage=1");
    if (done.pagination.totalRecords >= REAL_RUNS) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const tReal = Date.now();
  log(`${REAL_RUNS} real runs in ${((tReal - tDags) / 1000).toFixed(1)} s`);
  // The big run is stopped where it got to, so its page does not change while it is timed.
  try {
    await call("POST", `/dag-runs/big-graph/${bigRun}/stop`, {});
  } catch (err) {
    log(`stopping the 2,000-step run: ${err.message} (it may have finished)`);
  }
  let big;
  for (;;) {
    big = (await call("GET", `/dag-runs/big-graph/${bigRun}`)).dagRunDetails;
    if (big.statusLabel !== "running" && big.statusLabel !== "queued") break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const steps = {};
  for (const n of big.nodes) steps[n.statusLabel] = (steps[n.statusLabel] ?? 0) + 1;
  log(
    `the 2,000-step run, ${big.statusLabel}: ${JSON.stringify(steps)}; writing ${RUNS - REAL_RUNS - 1} runs into the index...`,
  );
  seedRuns(names, RUNS - REAL_RUNS - 1); // the 2,000-step run is one of the RUNS
  const tRuns = Date.now();
  const total = (await call("GET", "/dag-runs?perPage=1")).pagination.totalRecords;
  return {
    bigRun,
    bigRunSteps: steps,
    dagsSec: (tDags - t0) / 1000,
    realRuns: REAL_RUNS,
    realRunsSec: (tReal - tDags) / 1000,
    runs: total,
    seedSec: (tRuns - tReal) / 1000,
  };
}

// ---- the browser --------------------------------------------------------------------------

function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
}

/**
 * Records, in the page, when `selector` first matches a visible element, one frame later (the
 * frame that paints it), in ms since navigation start.
 */
function watchFor(selector) {
  const seen = () => {
    const el = document.querySelector(selector);
    return el && el.getClientRects().length > 0;
  };
  const check = () => {
    if (window.__usefulPaint !== undefined || !seen()) return false;
    window.__usefulPaint = null;
    requestAnimationFrame(() => requestAnimationFrame(() => (window.__usefulPaint = performance.now())));
    return true;
  };
  new MutationObserver((_, obs) => check() && obs.disconnect()).observe(document, { childList: true, subtree: true });
}

async function timePage(context, url, selector, token) {
  const page = await context.newPage();
  await page.addInitScript((t) => sessionStorage.setItem("dagflare.token", t), token);
  await page.addInitScript(watchFor, selector);
  try {
    await page.goto(url);
    await page.waitForFunction(() => typeof window.__usefulPaint === "number", undefined, { timeout: 30_000 });
    return await page.evaluate(() => window.__usefulPaint);
  } catch {
    return null; // the selector never appeared: reported as such
  } finally {
    await page.close();
  }
}

async function measure(baseURL, pages) {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const out = [];
  try {
    for (const p of pages) {
      // A fresh context per figure: its first load is cold (nothing cached), the rest warm.
      const context = await browser.newContext({ baseURL, viewport: { width: 1400, height: 900 } });
      const times = [];
      for (let i = 0; i < LOADS; i++) {
        times.push(await timePage(context, p.url, p.selector, TOKEN));
        if (times[0] === null) break; // not on this page (yet): once is enough to say so
      }
      await context.close();
      const ok = times.filter((t) => t !== null);
      out.push({ ...p, coldMs: times[0], warmMedianMs: ok.length > 1 ? median(ok.slice(1)) : null, times });
      log(`${p.name}: ${times.map((t) => (t === null ? "none" : `${Math.round(t)} ms`)).join(", ")}`);
    }
  } finally {
    await browser.close();
  }
  return out;
}

// ---- main ---------------------------------------------------------------------------------

const started = Date.now();
log("building the UI...");
const sizes = bundle();
log(
  `entry ${kib(sizes.entry.raw)} (gzip ${kib(sizes.entry.gzip)}); total ${kib(sizes.total.raw)} (gzip ${kib(sizes.total.gzip)})`,
);
buildRunner();
const stateDir = mkdtempSync(path.join(tmpdir(), "dagflare-bench-ui-"));
applyMigrations(stateDir);
const port = 8890 + Math.floor(Math.random() * 100);
const worker = await startWorker({
  port,
  persistTo: stateDir,
  vars: { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN },
});
const runners = [0, 1].map((i) =>
  startRunner({ server: worker.url, token: RUNNER_TOKEN, concurrency: 16, id: `bench-ui-${i}` }),
);
const call = async (method, p, body, text = false, attempt = 1) => {
  let res;
  try {
    res = await fetch(`${worker.url}/api/v2${p}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    // wrangler dev's proxy drops a connection now and then on a loaded machine: reads are retried.
    if (method !== "GET" || attempt >= 3) throw err;
    return call(method, p, body, text, attempt + 1);
  }
  const raw = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${raw}`);
  return text ? raw : raw ? JSON.parse(raw) : null;
};
let result;
// An interrupted benchmark leaves no server or runner behind.
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const r of runners) r.child.kill("SIGKILL");
    stopGroup(worker.child).then(() => process.exit(130));
  });
}
try {
  const data = await load(call);
  for (const r of runners) r.child.kill("SIGTERM");
  const pages = [
    { name: "DAG list, 100 per page", url: "/dags", selector: DAG_LIST_SELECTOR },
    { name: "DAG list, 1,000 per page", url: "/dags?perPage=1000", selector: DAG_LIST_SELECTOR },
    { name: "Runs, 100 per page", url: "/runs", selector: RUNS_LIST_SELECTOR },
    { name: "Runs, 500 per page (the API's most)", url: "/runs?perPage=500", selector: RUNS_LIST_SELECTOR },
    { name: "Run of 2,000 steps", url: `/dags/big-graph/runs/${data.bigRun}`, selector: RUN_SELECTOR },
    { name: "Run of 2,000 steps (heading)", url: `/dags/big-graph/runs/${data.bigRun}`, selector: HEADING_SELECTOR },
  ];
  const paints = await measure(worker.url, pages);
  result = { date: new Date().toISOString(), sizes, data, paints, totalSec: (Date.now() - started) / 1000 };
} finally {
  for (const r of runners) r.child.kill("SIGKILL");
  await stopGroup(worker.child);
}

writeFileSync(path.join(ROOT, "bench-results-ui.json"), `${JSON.stringify(result, null, 2)}\n`);
const ms = (t) => (t === null || t === undefined ? "not shown" : `${Math.round(t)} ms`);
console.log(
  `\nBundle: entry ${kib(sizes.entry.raw)} (gzip ${kib(sizes.entry.gzip)}), all ${kib(sizes.total.raw)} (gzip ${kib(sizes.total.gzip)})`,
);
for (const f of [...sizes.entry.files, ...sizes.lazy]) {
  console.log(`  ${f.entry ? "entry" : "lazy "} ${f.file}: ${kib(f.raw)} (gzip ${kib(f.gzip)})`);
}
const d = result.data;
console.log(
  `\nData: ${DAGS} DAGs in ${d.dagsSec.toFixed(1)} s; ${d.realRuns} real runs in ${d.realRunsSec.toFixed(1)} s; ${d.runs} runs in the history`,
);
console.log("\n| page | first useful paint, cold | warm, median |\n| --- | --- | --- |");
for (const p of result.paints) console.log(`| ${p.name} | ${ms(p.coldMs)} | ${ms(p.warmMedianMs)} |`);
console.log(`\nTotal ${result.totalSec.toFixed(0)} s; figures in bench-results-ui.json`);
