// `npm run bench:capacity [-- --quick] [-- --socket] [-- --single] [-- --only PART,...] [-- --out FILE]`: what one run, one pool
// and admission carry, with the server as the bottleneck. Runs the Worker bundle on workerd through
// Miniflare (as `npm run bench -- --direct`) with DAGFLARE_CALL_COUNTS=on, and simulated runners
// that speak the runner protocol over HTTP (or, with --socket, over the runner's socket) and
// complete each lease the moment they get it (no process, no heartbeat). Idle runners long-poll the same pool with labels no step selects, so every new task
// wakes them without giving them work. Prints a table (BENCHMARKS.md, "Capacity") and writes the
// figures to a JSON file. Figures, never assertions.
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import { startDirectWorker } from "./direct-worker.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const outFile = option("--out") ?? "bench-capacity.json";
/** The working runners speak over the runner's socket instead of HTTP (idle ones long-poll either way). */
const overSocket = argv.includes("--socket");
/** One completion per call (`/leases/{id}/complete`) instead of all a runner holds in one (`/completions`). */
const single = argv.includes("--single");
/** `--only 2048,starts`: the scenarios whose id contains one of these (a part without a comma: `2048`, `16 idle`). */
const only = option("--only")?.split(",").filter(Boolean);

const TOKEN = "capacity-bench-user-token-0123456789abcdef";
const RUNNER_TOKEN = "capacity-bench-runner-token-0123456789abcdef";
/** Steps select this label; idle runners lack it. */
const WORK = { kind: "work" };
const IDLE = { kind: "idle" };
const MAX_PER_REQUEST = 64;
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

async function call(path, body, token, signal) {
  const res = await fetch(`${base}/api/v2${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
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

// ---- simulated runners ------------------------------------------------------------------------

/** What the simulated runners saw: leases per step (a second lease of a step is a wasted one). */
function newTally() {
  return { leases: 0, completed: 0, refused: 0, idleRequests: 0, byStep: new Map() };
}

/**
 * A runner that completes every lease at once, asking for the next in the same call. `send(path,
 * body, signal)` makes one runner call (`/lease`, `/leases/...`) and answers `{status, body}`, or
 * undefined when it was given up.
 */
async function workingRunner(id, max, tally, stop, send) {
  const next = { runnerId: id, labels: WORK, max: 1 };
  let leases = [];
  while (!stop.aborted) {
    if (leases.length === 0) {
      leases = (await send("/lease", { runnerId: id, labels: WORK, max, waitMs: 1000 }, stop))?.body?.leases ?? [];
      continue;
    }
    for (const l of leases) {
      tally.leases++;
      const step = l.leaseId.split(".").slice(0, 2).join(".");
      tally.byStep.set(step, (tally.byStep.get(step) ?? 0) + 1);
    }
    if (single) {
      const replies = await Promise.all(
        leases.map(async (l) => {
          const r = await send(`/leases/${l.leaseId}/complete`, { token: l.token, exitCode: 0, next });
          if (r?.status === 200) tally.completed++;
          else if (r) tally.refused++;
          return r?.body?.next ?? [];
        }),
      );
      leases = replies.flat();
      continue;
    }
    // Every lease it holds in one call, asking for as many next leases.
    const completions = leases.map((l) => ({ leaseId: l.leaseId, token: l.token, exitCode: 0 }));
    const r = await send("/completions", { completions, next: { ...next, max: leases.length } });
    for (const result of r?.body?.results ?? []) {
      if (result.status === 200) tally.completed++;
      else tally.refused++;
    }
    leases = r?.body?.next ?? [];
  }
}

/** Runner calls over HTTP. */
const overHttp = (path, body, signal) => call(`/runners${path}`, body, RUNNER_TOKEN, signal).catch(() => undefined);

/** Runner calls over the runner's socket: one message each way per call. */
async function socketOf(id, stop) {
  const url = new URL(`${base.replace(/^http/, "ws")}/api/v2/runners/socket`);
  url.searchParams.set("runnerId", id);
  url.searchParams.set("labels", JSON.stringify(WORK));
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${RUNNER_TOKEN}` }, perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  stop.addEventListener("abort", () => ws.close(), { once: true });
  const waiting = new Map();
  let nextId = 1;
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  ws.on("close", () => {
    for (const resolve of waiting.values()) resolve(undefined);
  });
  return (path, body) => {
    const id = nextId++;
    const answer = new Promise((resolve) => waiting.set(id, resolve));
    ws.send(JSON.stringify({ id, path, body }));
    return answer;
  };
}

/** A runner whose labels no step selects: it long-polls the pool and is woken for nothing. */
async function idleRunner(id, stop, tally, waitMs = 25_000) {
  while (!stop.aborted) {
    tally.idleRequests++;
    await overHttp("/lease", { runnerId: id, labels: IDLE, max: 1, waitMs }, stop);
  }
}

function pool({ inFlight = 1, idle = 0 }, tally) {
  const stop = new AbortController();
  const workers = Math.max(1, Math.ceil(inFlight / MAX_PER_REQUEST));
  const max = Math.min(inFlight, MAX_PER_REQUEST);
  const running = [
    ...Array.from({ length: workers }, async (_, i) => {
      const id = `work-${i}`;
      const send = overSocket ? await socketOf(id, stop.signal) : overHttp;
      await workingRunner(id, max, tally, stop.signal, send);
    }),
    ...Array.from({ length: idle }, (_, i) => idleRunner(`idle-${i}`, stop.signal, tally)),
  ];
  return {
    stop: async () => {
      stop.abort();
      await Promise.allSettled(running);
    },
  };
}

// ---- measuring ------------------------------------------------------------------------------

const until = async (check, what, timeoutMs = 600_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const TERMINAL = new Set(["succeeded", "failed", "aborted", "partially_succeeded"]);
const perStep = (counts, n) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number((v / n).toFixed(2))]));
const sumOf = (counts, prefix) =>
  Object.entries(counts)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((n, [, v]) => n + v, 0);

async function runScenario(s, index) {
  const dag = `cap${index}`;
  await api("/dags", { name: dag, spec: specOf(s.shape === "starts" ? "chain" : s.shape, s.steps ?? 1, s.limit) });
  const tally = newTally();
  const before = await callCounts();
  const p = pool(s.shape === "starts" ? { inFlight: 64, idle: 0 } : s, tally);
  let result;
  if (s.shape === "starts") {
    const t0 = performance.now();
    const ids = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: s.concurrency }, async () => {
        while (next < s.runs) {
          next++;
          ids.push((await api(`/dags/${dag}/start`, {})).dagRunId);
        }
      }),
    );
    const startMs = performance.now() - t0;
    await until(() => tally.completed >= s.runs, "every run's step");
    const doneMs = performance.now() - t0;
    const calls = diff(await callCounts(), before);
    result = {
      startsPerSec: Math.round((s.runs / startMs) * 1000),
      runsPerSec: Math.round((s.runs / doneMs) * 1000),
      admitPerRun: Number(((calls["RUNS.admit"] ?? 0) / s.runs).toFixed(2)),
      queueCallsPerRun: Number((sumOf(calls, "QUEUES.") / s.runs).toFixed(2)),
      calls: perStep(calls, s.runs),
    };
  } else {
    const t0 = performance.now();
    const { dagRunId } = await api(`/dags/${dag}/start`, {});
    await until(() => tally.completed >= s.steps, "every step's completion");
    const wallMs = performance.now() - t0;
    const d = await until(async () => {
      const r = (await api(`/dag-runs/${dag}/${dagRunId}`)).dagRunDetails;
      return TERMINAL.has(r.statusLabel) ? r : undefined;
    }, "the run's end");
    const calls = diff(await callCounts(), before);
    const runMs = Date.parse(d.finishedAt) - Date.parse(d.startedAt);
    result = {
      status: d.statusLabel,
      stepsPerSec: Math.round((s.steps / runMs) * 1000),
      leasesPerSec: Math.round((tally.leases / wallMs) * 1000),
      wastedLeases: [...tally.byStep.values()].reduce((n, c) => n + c - 1, 0),
      refusedCompletions: tally.refused,
      doCallsPerStep: Number(((sumOf(calls, "RUNS.") + sumOf(calls, "DISPATCH.")) / s.steps).toFixed(2)),
      dispatcherCallsPerStep: Number((sumOf(calls, "DISPATCH.") / s.steps).toFixed(2)),
      idleRequests: tally.idleRequests,
      // The idle polls' own renewals (a request each 25 s, whatever the tasks) taken out.
      dispatcherCallsPerTask: Number(
        ((sumOf(calls, "DISPATCH.") - tally.idleRequests * idlePollCalls) / s.steps).toFixed(2),
      ),
      d1PerStep: Number((sumOf(calls, "DB.") / s.steps).toFixed(3)),
      calls: perStep(calls, s.steps),
    };
  }
  await p.stop();
  return { ...s, ...result };
}

function table(results) {
  const runs = results.filter((r) => r.shape !== "starts");
  const starts = results.filter((r) => r.shape === "starts");
  const lines = [
    `dispatcher calls of one idle poll that is not woken: ${idlePollCalls}`,
    "",
    "| scenario | steps/s (one run) | leases/s (the pool) | wasted leases | DO calls per step (of them dispatcher) | dispatcher calls per task, idle renewals aside | D1 queries per step |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...runs.map(
      (r) =>
        `| ${r.id} | ${r.stepsPerSec} | ${r.leasesPerSec} | ${r.wastedLeases} | ${r.doCallsPerStep} (${r.dispatcherCallsPerStep}) | ${r.dispatcherCallsPerTask} | ${r.d1PerStep} |`,
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
  const tally = newTally();
  const stop = new AbortController();
  const before = await callCounts();
  for (let i = 0; i < 5; i++) {
    tally.idleRequests++;
    await overHttp("/lease", { runnerId: "idle-probe", labels: IDLE, max: 1, waitMs: 100 }, stop.signal);
  }
  return sumOf(diff(await callCounts(), before), "DISPATCH.") / tally.idleRequests;
}

try {
  // A warm-up: the isolate's first requests are not measured.
  await runScenario({ id: "warm-up", shape: "wide", steps: 50, inFlight: 8, idle: 0 }, 0);
  idlePollCalls = await measureIdlePoll();
  for (const [i, s] of SCENARIOS.entries()) {
    if (only && !only.some((part) => s.id.includes(part))) continue;
    const r = await runScenario(s, i + 1);
    results.push(r);
    process.stderr.write(`${r.id}: ${JSON.stringify({ ...r, calls: undefined })}\n`);
  }
} finally {
  await worker.stop();
}
writeFileSync(
  outFile,
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, overSocket, single, idlePollCalls, results }, null, 2)}\n`,
);
process.stdout.write(table(results));
