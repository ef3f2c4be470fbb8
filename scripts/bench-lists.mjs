// `npm run bench -- --lists`: the list endpoints at scale. Starts `wrangler dev` on a fresh local
// state, creates 1,000 DAGs through the API, writes 10,000 runs into the run index (D1) directly
// (a list reads only the index, and starting 10,000 runs would measure the engine instead),
// then times the list calls the web UI makes. Figures, never assertions.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, BIN, ROOT, startWorker, toolEnv } from "./stack.mjs";

const TOKEN = "bench-user";
const DAGS = 1_000;
const RUNS = 10_000;
const REQUESTS = 100;
const STATUSES = ["succeeded", "failed", "succeeded", "aborted", "succeeded", "partially_succeeded"];

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const spec = (i) =>
  `description: DAG number ${i}\ntags: [team-${i % 10}, ${i % 2 ? "odd" : "even"}]\n${
    i % 4 === 0 ? 'schedule: "0 * * * *"\n' : ""
  }steps:\n${Array.from({ length: 5 }, (_, s) => `  - name: s${s}\n    command: echo ${s}\n`).join("")}`;

/** 10,000 finished runs, 10 per DAG, a minute apart, in multi-row inserts. */
function runsSql() {
  const lines = [];
  const t0 = Date.now() - RUNS * 60_000;
  for (let start = 0; start < RUNS; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(RUNS, start + 500); i++) {
      const dag = `bench-dag-${String(i % DAGS).padStart(4, "0")}`;
      const at = t0 + i * 60_000;
      const status = STATUSES[i % STATUSES.length];
      rows.push(`('bench-run-${i}', '${dag}', '${status}', '', ${at}, ${at + 1000}, ${at + 5000}, ${at + 5000})`);
    }
    lines.push(
      `INSERT INTO dag_runs (run_id, dag_name, status, params, queued_at, started_at, finished_at, updated_at) VALUES\n${rows.join(",\n")};`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export async function benchLists({ outFile }) {
  const stateDir = mkdtempSync(path.join(tmpdir(), "dagflare-bench-lists-"));
  applyMigrations(stateDir);
  const port = 8790 + Math.floor(Math.random() * 100);
  const worker = await startWorker({
    port,
    persistTo: stateDir,
    vars: { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: "bench-runner" },
  });
  const call = async (method, p, body) => {
    const res = await fetch(`${worker.url}/api/v2${p}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  try {
    process.stderr.write(`creating ${DAGS} DAGs...\n`);
    for (let i = 0; i < DAGS; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          call("POST", "/dags", { name: `bench-dag-${String(i + k).padStart(4, "0")}`, spec: spec(i + k) }),
        ),
      );
    }
    process.stderr.write(`writing ${RUNS} runs...\n`);
    const file = path.join(stateDir, "runs.sql");
    writeFileSync(file, runsSql());
    const res = spawnSync(
      path.join(BIN, "wrangler"),
      ["d1", "execute", "DB", "--local", "--persist-to", stateDir, "--file", file],
      { cwd: ROOT, env: toolEnv({ CI: "true" }), encoding: "utf8" },
    );
    if (res.status !== 0) throw new Error(`seeding runs failed:\n${res.stdout}\n${res.stderr}`);
    const seen = await call("GET", "/dag-runs?name=bench-dag-0001&perPage=1");
    if (!seen.dagRuns.length) throw new Error("the seeded runs are not visible to the Worker");

    const workloads = [
      ["GET /dags (first page, 100 per page)", "/dags?perPage=100"],
      ["GET /dags (page 5, tag filter)", "/dags?perPage=100&page=5&tag=odd"],
      ["GET /dags (name substring, latest status failed)", "/dags?perPage=100&name=dag-0&status=2"],
      ["GET /dag-runs (first page, 100 per page)", "/dag-runs?perPage=100"],
      ["GET /dag-runs (name substring, status, page 3)", "/dag-runs?perPage=100&name=dag-00&status=4&page=3"],
    ];
    const results = [];
    for (const [title, p] of workloads) {
      await call("GET", p); // warm
      const times = [];
      const t0 = performance.now();
      for (let i = 0; i < REQUESTS; i++) {
        const t = performance.now();
        await call("GET", p);
        times.push(performance.now() - t);
      }
      const wall = performance.now() - t0;
      results.push({
        title,
        requestsPerSec: Number(((REQUESTS / wall) * 1000).toFixed(1)),
        p50Ms: Number(pct(times, 50).toFixed(1)),
        p99Ms: Number(pct(times, 99).toFixed(1)),
      });
    }
    console.table(results);
    writeFileSync(
      outFile,
      `${JSON.stringify({ date: new Date().toISOString(), dags: DAGS, runs: RUNS, results }, null, 2)}\n`,
    );
    console.log(`figures written to ${outFile}`);
  } finally {
    await worker.stop();
  }
}
