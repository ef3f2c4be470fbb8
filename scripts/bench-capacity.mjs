// `npm run bench:capacity [-- --quick] [-- --socket] [-- --single] [-- --only PART,...] [-- --out FILE]
// [-- --deadline SEC]`: what one run, one pool and admission carry, with the server as the
// bottleneck. Runs the Worker bundle on workerd through Miniflare (as `npm run bench -- --direct`)
// with DAGFLARE_CALL_COUNTS=on, and simulated runners (capacity-runners.mjs) that speak the runner
// protocol over HTTP (or, with --socket, over the runner's socket) and complete each lease the
// moment they get it (no process, no heartbeat). Idle runners long-poll the same pool with labels
// no step selects, so every new task wakes them without giving them work. Prints a table
// (BENCHMARKS.md, "Capacity") and writes the figures to a JSON file. Figures, never assertions.
//
// Every scenario ends: one in which no step completes for STALL_MS, or that passes its deadline
// (`--deadline`, 900 s), stops with an error saying what it was waiting for, what the runners'
// calls under way are and where the run's steps stand; the next scenario runs, and the benchmark
// exits with status 1.
import { writeFileSync } from "node:fs";
import { idleProbe, newTally, runnerPool, WORK_POLL_WAIT_MS } from "./capacity-runners.mjs";
import { startDirectWorker } from "./direct-worker.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const outFile = option("--out") ?? "bench-capacity.json";
/** The working runners speak over the runner's socket instead of HTTP (idle ones long-poll either way). */
const overSocket = argv.includes("--socket");
/** One completion per call (`/leases/{id}/complete`) instead of all a runner holds in one (`/completions`). */
const single = argv.includes("--single");
/**
 * `--only 2048,starts`: the scenarios whose id contains one of these (a part without a comma:
 * `2048`, `16 idle`); a part starting with `=` names one scenario exactly (`=wide-2000`).
 */
const only = option("--only")?.split(",").filter(Boolean);
const picked = (id) => !only || only.some((part) => (part.startsWith("=") ? id === part.slice(1) : id.includes(part)));
/** A scenario that has not ended this long after it began is stopped. */
const deadlineSec = Number(option("--deadline") ?? 900);
/** A scenario in which no step completed for this long has stalled. */
const STALL_MS = 60_000;

const TOKEN = "capacity-bench-user-token-0123456789abcdef";
const RUNNER_TOKEN = "capacity-bench-runner-token-0123456789abcdef";
/** Runs started (16 at a time) in the starts scenarios. */
const STARTS = quick ? 100 : 200;

// ---- scenarios ------------------------------------------------------------------------------

const SCENARIOS = [
  { id: "wide-250", shape: "wide", steps: 250, inFlight: 64, idle: 0 },
  { id: "wide-2000", shape: "wide", steps: 2000, inFlight: 64, idle: 0 },
  ...(quick ? [] : [{ id: "wide-4000", shape: "wide", steps: 4000, inFlight: 64, idle: 0 }]),
  { id: "chain-250", shape: "chain", steps: 250, inFlight: 1, idle: 0 },
  { id: "chain-2000", shape: "chain", steps: 2000, inFlight: 1, idle: 0 },
  { id: "wide-2000, 16 idle runners", shape: "wide", steps: 2000, inFlight: 64, idle: 16 },
  { id: "wide-2000, 64 idle runners", shape: "wide", steps: 2000, inFlight: 64, idle: 64 },
  { id: "wide-2000, 2048 in flight", shape: "wide", steps: 2000, inFlight: 2048, idle: 0 },
  { id: `${STARTS} starts, no limit`, shape: "starts", runs: STARTS, concurrency: 16 },
  { id: `${STARTS} starts, maxActiveRuns 8`, shape: "starts", runs: STARTS, concurrency: 16, limit: 8 },
];

const stepLines = (n) => Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: "true"\n`).join("");
const specOf = (shape, n, limit) =>
  `${shape === "wide" ? "type: graph\n" : ""}${limit ? `maxActiveRuns: ${limit}\n` : ""}workerSelector:\n  kind: work\nsteps:\n${stepLines(n)}`;

// ---- the HTTP side ----------------------------------------------------------------------------

let base = "";
/** A call of the benchmark's own (create, start, read) gives up after this long. */
const API_TIMEOUT_MS = 60_000;

async function call(path, body, token, signal) {
  const res = await fetch(`${base}/api/v2${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: signal ?? AbortSignal.timeout(API_TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

async function api(path, body) {
  const r = await call(path, body, TOKEN);
  if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Every dagflare_calls_total sample of GET /metrics. */
async function callCounts() {
  const text = (await call("/metrics", undefined, TOKEN)).body;
  const counts = {};
  for (const m of text.matchAll(/^dagflare_calls_total\{call="([^"]+)"\} (\d+)$/gm)) counts[m[1]] = Number(m[2]);
  return counts;
}

function diff(after, before) {
  const out = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

const runnerOpts = () => ({ base, token: RUNNER_TOKEN, http: call, single, overSocket });

// ---- measuring ------------------------------------------------------------------------------

/** Thrown when a scenario stops moving or passes its deadline; says what it was waiting for. */
class Stalled extends Error {}

/**
 * Waits for `check` to answer something, while the scenario moves: it fails when no step
 * completed for STALL_MS, or at the scenario's deadline, with what it was waiting for.
 */
async function until(check, what, tally, deadline) {
  for (;;) {
    const v = await check();
    if (v) return v;
    const still = Math.round((Date.now() - tally.lastProgressAt) / 1000);
    if (deadline.aborted) throw new Stalled(`passed its deadline of ${deadlineSec} s waiting for ${what}`);
    if (still * 1000 > STALL_MS) throw new Stalled(`no step completed for ${still} s, waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a stalled scenario's runners and run were doing, for its error. */
async function stallReport(tally, run) {
  const now = Date.now();
  const calls = [...tally.calls].map(([id, c]) => `${id} waits ${Math.round((now - c.since) / 1000)} s for ${c.path}`);
  const lines = [
    `completed ${tally.completed}, leases ${tally.leases}, refused ${tally.refused}, unanswered ${tally.unanswered}, sockets closed by the server ${tally.socketsClosed}`,
    calls.length ? `runner calls under way: ${calls.join("; ")}` : "no runner call under way",
  ];
  if (run) {
    try {
      const d = (await call(`/dag-runs/${run.dag}/${run.dagRunId}`, undefined, TOKEN, AbortSignal.timeout(10_000))).body
        .dagRunDetails;
      const byStatus = {};
      for (const n of d.nodes) byStatus[n.statusLabel] = (byStatus[n.statusLabel] ?? 0) + 1;
      lines.push(`the run is ${d.statusLabel}; its steps: ${JSON.stringify(byStatus)}`);
    } catch (err) {
      lines.push(`the run's details could not be read: ${err.message}`);
    }
  }
  return lines.join("\n  ");
}

const TERMINAL = new Set(["succeeded", "failed", "aborted", "partially_succeeded"]);
const perStep = (counts, n) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number((v / n).toFixed(2))]));
const sumOf = (counts, prefix) =>
  Object.entries(counts)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((n, [, v]) => n + v, 0);

/** One scenario, ended by its result or a Stalled error; its runners are stopped either way. */
async function runScenario(s, index) {
  const dag = `cap${index}`;
  await api("/dags", { name: dag, spec: specOf(s.shape === "starts" ? "chain" : s.shape, s.steps ?? 1, s.limit) });
  const tally = newTally();
  const stop = new AbortController();
  const deadline = AbortSignal.timeout(deadlineSec * 1000);
  // Stopped after the scenario's end or its error, so that a stalled one reports its runners' calls.
  const runners = runnerPool(runnerOpts(), s.shape === "starts" ? { inFlight: 64, idle: 0 } : s, tally, stop.signal);
  const before = await callCounts();
  let run;
  try {
    return { ...s, ...(await measure()) };
  } catch (err) {
    // A call of the benchmark's own that failed or timed out ends the scenario as a stall does.
    throw new Stalled(`${s.id}: ${err.message}\n  ${await stallReport(tally, run)}`);
  } finally {
    stop.abort();
    await runners;
    // A lease request the runners gave up goes on in the Worker until its waitMs: one still
    // waiting when the next scenario's run starts would take its first task for a runner that
    // is gone, and that step would wait out the lease's 5 s confirmation window.
    await new Promise((r) => setTimeout(r, WORK_POLL_WAIT_MS + 500));
  }

  async function measure() {
    if (s.shape === "starts") {
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: s.concurrency }, async () => {
          while (next < s.runs && !deadline.aborted) {
            next++;
            await api(`/dags/${dag}/start`, {});
          }
        }),
      );
      const startMs = performance.now() - t0;
      await until(() => tally.completed >= s.runs, "every run's step", tally, deadline);
      const doneMs = performance.now() - t0;
      const calls = diff(await callCounts(), before);
      return {
        startsPerSec: Math.round((s.runs / startMs) * 1000),
        runsPerSec: Math.round((s.runs / doneMs) * 1000),
        admitPerRun: Number(((calls["RUNS.admit"] ?? 0) / s.runs).toFixed(2)),
        queueCallsPerRun: Number((sumOf(calls, "QUEUES.") / s.runs).toFixed(2)),
        calls: perStep(calls, s.runs),
      };
    }
    const t0 = performance.now();
    const { dagRunId } = await api(`/dags/${dag}/start`, {});
    run = { dag, dagRunId };
    await until(() => tally.completed >= s.steps, "every step's completion", tally, deadline);
    const wallMs = performance.now() - t0;
    const d = await until(
      async () => {
        const r = (await api(`/dag-runs/${dag}/${dagRunId}`)).dagRunDetails;
        return TERMINAL.has(r.statusLabel) ? r : undefined;
      },
      "the run's end",
      tally,
      deadline,
    );
    const calls = diff(await callCounts(), before);
    const runMs = Date.parse(d.finishedAt) - Date.parse(d.startedAt);
    const per = (n) => Number((n / s.steps).toFixed(2));
    return {
      status: d.statusLabel,
      stepsPerSec: Math.round((s.steps / runMs) * 1000),
      leasesPerSec: Math.round((tally.leases / wallMs) * 1000),
      wastedLeases: [...tally.byStep.values()].reduce((n, c) => n + c - 1, 0),
      refusedCompletions: tally.refused,
      doCallsPerStep: per(sumOf(calls, "RUNS.") + sumOf(calls, "DISPATCH.")),
      dispatcherCallsPerStep: per(sumOf(calls, "DISPATCH.")),
      idleRequests: tally.idleRequests,
      // The idle polls' own renewals (a request each 25 s, whatever the tasks) taken out.
      dispatcherCallsPerTask: per(sumOf(calls, "DISPATCH.") - tally.idleRequests * idlePollCalls),
      // Storage statements (src/call-counts.ts), in the run's object and in the pool's.
      runStatementsPerStep: per(sumOf(calls, "SQL.RunObject.")),
      dispatcherStatementsPerStep: per(sumOf(calls, "SQL.DispatchObject.")),
      d1PerStep: Number((sumOf(calls, "DB.") / s.steps).toFixed(3)),
      calls: perStep(calls, s.steps),
    };
  }
}

function table(results) {
  const runs = results.filter((r) => r.shape !== "starts");
  const starts = results.filter((r) => r.shape === "starts");
  const lines = [
    `dispatcher calls of one idle poll that is not woken: ${idlePollCalls}`,
    "",
    "| scenario | steps/s (one run) | leases/s (the pool) | wasted leases | DO calls per step (of them dispatcher) | dispatcher calls per task, idle renewals aside | storage statements per step, run (pool) | D1 queries per step |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...runs.map(
      (r) =>
        `| ${r.id} | ${r.stepsPerSec} | ${r.leasesPerSec} | ${r.wastedLeases} | ${r.doCallsPerStep} (${r.dispatcherCallsPerStep}) | ${r.dispatcherCallsPerTask} | ${r.runStatementsPerStep} (${r.dispatcherStatementsPerStep}) | ${r.d1PerStep} |`,
    ),
    "",
    "| scenario | starts/s | runs finished/s | admit calls per run | admission object calls per run |",
    "| --- | --- | --- | --- | --- |",
    ...starts.map(
      (r) => `| ${r.id} | ${r.startsPerSec} | ${r.runsPerSec} | ${r.admitPerRun} | ${r.queueCallsPerRun} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

const worker = await startDirectWorker({
  port: 8700 + Math.floor(Math.random() * 80),
  vars: {
    DAGFLARE_AUTH: "required",
    DAGFLARE_API_TOKEN: TOKEN,
    DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN,
    DAGFLARE_CALL_COUNTS: "on",
  },
});
base = worker.url;
const results = [];
/** Dispatcher calls one idle long poll costs when nothing wakes it (measured below, before the scenarios). */
let idlePollCalls = 0;

/** Five short idle polls with no work anywhere: what one unanswered poll costs the dispatcher. */
async function measureIdlePoll() {
  const before = await callCounts();
  for (let i = 0; i < 5; i++) await idleProbe(runnerOpts(), AbortSignal.timeout(API_TIMEOUT_MS));
  return sumOf(diff(await callCounts(), before), "DISPATCH.") / 5;
}

const failures = [];
try {
  // A warm-up: the isolate's first requests are not measured.
  await runScenario({ id: "warm-up", shape: "wide", steps: 50, inFlight: 8, idle: 0 }, 0);
  idlePollCalls = await measureIdlePoll();
  for (const [i, s] of SCENARIOS.entries()) {
    if (!picked(s.id)) continue;
    try {
      const r = await runScenario(s, i + 1);
      results.push(r);
      process.stderr.write(`${r.id}: ${JSON.stringify({ ...r, calls: undefined })}\n`);
    } catch (err) {
      if (!(err instanceof Stalled)) throw err;
      failures.push(err.message);
      process.stderr.write(`STALLED ${err.message}\n`);
    }
  }
} finally {
  // Stopping workerd must not hang the benchmark either.
  const stopped = await Promise.race([
    worker.stop().then(() => true),
    new Promise((r) => setTimeout(r, 30_000, false).unref()),
  ]);
  if (!stopped) {
    process.stderr.write("workerd did not stop within 30 s; exiting without it\n");
    // Once the figures are written: the handles workerd left open would keep Node alive.
    setTimeout(() => process.exit(process.exitCode || 1), 5_000).unref();
  }
}
writeFileSync(
  outFile,
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, overSocket, single, idlePollCalls, results, failures }, null, 2)}\n`,
);
process.stdout.write(table(results));
if (failures.length) {
  process.stderr.write(`\n${failures.length} scenario(s) did not end:\n${failures.join("\n")}\n`);
  process.exitCode = 1;
}
