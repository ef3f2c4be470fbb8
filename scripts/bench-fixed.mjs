// `npm run bench:fixed [-- --direct] [-- --rounds N] [-- --steps 40] [-- --cmd /bin/true] [-- --timing]`:
// a run's fixed cost, stage by stage: from the client's POST /dag-runs (inline spec and name, as
// the peer benchmark's W1) to the first step's process start, and from the last step's process
// exit to the run's `finishedAt`. Starts the local stack (wrangler dev, or with --direct workerd
// through Miniflare) and a runner with its trace on (DAGFLARE_RUNNER_TRACE), runs W1's shape
// (40 sequential `/bin/true`) and joins the client's clock, the run's own times (the run id's
// uuidv7 time, createdAt, startedAt, readyAt, the first step's lease time, processStartedAt,
// processExitedAt, finishedAt) and the runner's trace. `--timing` also turns on the server's
// own marks (DAGFLARE_TIMING=on, src/timing.ts), printed in the Worker's log and joined here.
// Figures, never assertions.
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { startDirectWorker } from "./direct-worker.mjs";
import { apiClient, applyMigrations, buildRunner, chainSpec, p50, startTracedRunner, startWorker } from "./stack.mjs";

const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const direct = argv.includes("--direct");
const timing = argv.includes("--timing");
const rounds = Number(option("--rounds") ?? 5);
const steps = Number(option("--steps") ?? 40);
const cmd = option("--cmd") ?? "/bin/true";

const TOKEN = "bench-user";
const RUNNER_TOKEN = "bench-runner";
const TERMINAL = ["succeeded", "failed", "aborted", "partially_succeeded"];

/** The ms of a uuidv7's first 48 bits: when the server made the run id. */
const uuidv7Time = (id) => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

/** Server marks (src/timing.ts): `dagflare-timing {"mark", "run", "t"}` lines of the Worker's log. */
const serverMarks = [];
function readMark(line) {
  const at = line.indexOf("dagflare-timing ");
  if (at < 0) return;
  try {
    serverMarks.push(JSON.parse(line.slice(at + "dagflare-timing ".length)));
  } catch {
    // A line cut by the log's buffering: a mark lost, never a reason to stop.
  }
}

// The stages of the start and of the end, each [label, from, to] over the marks of one run.
const START = [
  ["client POST sent -> run id made (request, auth, parse)", "t0", "idMade"],
  ["run id made -> run object created (D1 insert, object started)", "idMade", "createdAt"],
  ["run object created -> run started (startedAt)", "createdAt", "startedAt"],
  ["run started -> first step ready (readyAt)", "startedAt", "ready0"],
  ["first step ready -> lease claimed in the run (node startedAt)", "ready0", "claimed0"],
  ["lease claimed -> lease at the runner's socket", "claimed0", "sockIn0"],
  ["at the socket -> lease taken on", "sockIn0", "leased0"],
  ["lease taken on -> process started (processStartedAt)", "leased0", "proc0"],
];
const END = [
  ["last process exit (processExitedAt) -> output closed", "exitN", "closedN"],
  ["output closed -> completion on the socket", "closedN", "sockOutN"],
  ["completion on the socket -> run finished (finishedAt)", "sockOutN", "finishedAt"],
];
const SERVER = [
  "objectNew",
  "objectUp",
  "inserted",
  "stubStarted",
  "actionRecorded",
  "enqueued",
  "claimCalled",
  "taken",
  "pushed",
  "complete",
  "summary",
];

function marksOf(t0, answeredAt, d, lines) {
  const nodes = d.nodes;
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  const leaseOf = (i) => lines.find((l) => l.stage === "leased" && l.lease.startsWith(`${d.dagRunId}.${i}.`));
  const lease0 = leaseOf(0);
  const leaseN = leaseOf(nodes.length - 1);
  // The reply that carried the first lease: the last socket arrival before it was taken on.
  const sockIn0 = lines.filter((l) => l.stage === "sock-in" && l.t <= lease0.t).at(-1);
  const pidN = lines.find((l) => l.stage === "pid" && l.lease === leaseN.lease)?.pid;
  const closedN = lines.find((l) => l.stage === "closed" && l.lease === leaseN.lease);
  const sockOutN = lines.find((l) => l.stage === "sock-out" && l.t >= closedN.t);
  const m = {
    t0,
    answeredAt,
    idMade: uuidv7Time(d.dagRunId),
    createdAt: Date.parse(d.queuedAt),
    startedAt: Date.parse(d.startedAt),
    ready0: first.readyAt,
    claimed0: Date.parse(first.startedAt),
    sockIn0: sockIn0?.t,
    leased0: lease0.t,
    proc0: first.processStartedAt,
    exitN: last.processExitedAt,
    exitTraceN: lines.find((l) => l.stage === "exit" && l.pid === pidN)?.t,
    closedN: closedN?.t,
    sockOutN: sockOutN?.t,
    finishedAt: Date.parse(d.finishedAt),
  };
  // The first of each mark, but the last completion's arrival.
  for (const s of serverMarks.filter((x) => x.run === d.dagRunId)) {
    if (s.mark === "complete") m["server.complete"] = s.t;
    else m[`server.${s.mark}`] ??= s.t;
  }
  return m;
}

async function main() {
  buildRunner();
  const stateDir = mkdtempSync(path.join(tmpdir(), "dagflare-fixed-"));
  const vars = { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN };
  if (timing) vars.DAGFLARE_TIMING = "on";
  const workerOpts = { port: 8990 + Math.floor(Math.random() * 100), persistTo: stateDir, vars, log: readMark };
  if (!direct) applyMigrations(stateDir);
  const worker = direct ? await startDirectWorker(workerOpts) : await startWorker(workerOpts);
  const api = apiClient(worker.url, TOKEN);
  const runner = startTracedRunner({ server: worker.url, token: RUNNER_TOKEN, id: "bench-fixed" });
  const runs = [];
  let lines;
  try {
    async function runW1(name, n) {
      const t0 = Date.now();
      const { dagRunId } = await api("POST", "/dag-runs", { spec: chainSpec(n, cmd), name });
      const answeredAt = Date.now();
      for (;;) {
        const { dagRuns } = await api("GET", `/dag-runs?name=${name}&dagRunId=${dagRunId}`);
        const r = dagRuns?.find((x) => x.dagRunId === dagRunId);
        if (r && TERMINAL.includes(r.statusLabel)) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const { dagRunDetails: d } = await api("GET", `/dag-runs/${name}/${dagRunId}`);
      if (d.statusLabel !== "succeeded") throw new Error(`run ${dagRunId} ended ${d.statusLabel}`);
      return { t0, answeredAt, d };
    }
    await runW1("fixed-warmup", 3);
    for (let round = 0; round < rounds; round++) {
      const run = await runW1("fixed-w1", steps);
      run.load = loadavg()[0];
      runs.push(run);
      const wall = Date.parse(run.d.finishedAt) - run.t0;
      process.stderr.write(`round ${round + 1}: wall ${wall} ms, load ${run.load.toFixed(2)}\n`);
    }
    lines = await runner.stop();
  } finally {
    await worker.stop();
  }
  const all = runs.map((r) => ({ ...marksOf(r.t0, r.answeredAt, r.d, lines), load: r.load }));
  const cell = (from, to) => p50(all.map((m) => m[to] - m[from])).toFixed(1);
  console.log(
    `\nW1's shape (${steps} sequential \`${cmd}\`) on ${direct ? "workerd through Miniflare" : "wrangler dev"}, ` +
      `${rounds} runs; p50 over the runs (ms), 1-minute load ${p50(all.map((m) => m.load)).toFixed(2)}.\n`,
  );
  console.log("| stage | ms |\n| --- | --- |");
  for (const [label, from, to] of START) console.log(`| ${label} | ${cell(from, to)} |`);
  console.log(`| **client POST sent -> first process started** | **${cell("t0", "proc0")}** |`);
  for (const [label, from, to] of END) console.log(`| ${label} | ${cell(from, to)} |`);
  console.log(`| **last process exit -> run finished** | **${cell("exitN", "finishedAt")}** |`);
  console.log(`| first process started -> last process exit (the chain) | ${cell("proc0", "exitN")} |`);
  console.log(`| the run's wall (finishedAt - client's POST) | ${cell("t0", "finishedAt")} |`);
  console.log(`| client POST sent -> its answer | ${cell("t0", "answeredAt")} |`);
  if (timing) {
    console.log("\nServer marks (DAGFLARE_TIMING=on), from the client's POST (p50, ms):\n");
    console.log("| mark | ms |\n| --- | --- |");
    for (const mark of SERVER) console.log(`| ${mark} | ${cell("t0", `server.${mark}`)} |`);
  }
}

await main();
