// `npm run bench:stages [-- --direct] [-- --rounds N] [-- --sizes 40,100] [-- --bundle A.mjs --bundle B.mjs]
// [-- --runner-args "--no-early-start" --runner-args ""] [-- --cmd "echo one line"]`:
// where a chain step's time goes, stage by stage. Starts the local stack (wrangler dev, or with
// --direct workerd through Miniflare), runs chains of `true` (or of `--cmd`) with the runner's trace on
// (DAGFLARE_RUNNER_TRACE, runner/src/trace.ts), joins the trace with the run's own times
// (`readyAt` is stamped by the run's object) and prints the p50 of each stage. With several
// `--bundle`s (runner bundles built from different commits) the runners take turns on the same
// server, round after round, so that the figures of an A/B comparison share the machine's load;
// several `--runner-args` (flags of the runner, "" for none) do the same with one bundle.
// Figures, never assertions.
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { startDirectWorker } from "./direct-worker.mjs";
import {
  apiClient,
  applyMigrations,
  buildRunner,
  chainSpec,
  p50,
  RUNNER_BUNDLE,
  startTracedRunner,
  startWorker,
} from "./stack.mjs";

const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const direct = argv.includes("--direct");
const rounds = Number(option("--rounds") ?? 1);
const sizes = (option("--sizes") ?? "40,100").split(",").map(Number);
const bundles = argv.flatMap((a, i) => (a === "--bundle" ? [path.resolve(argv[i + 1])] : []));
const runnerArgs = argv.flatMap((a, i) => (a === "--runner-args" ? [argv[i + 1].split(" ").filter(Boolean)] : []));
// Each step's command (`--cmd`, as `npm run bench` names it; `--command` too): `true` by default,
// `/bin/true` for a process without a shell, `echo ...` for a chain whose steps each write a line.
const cmd = option("--cmd") ?? option("--command") ?? "true";

const TOKEN = "bench-user";
const RUNNER_TOKEN = "bench-runner";
const TERMINAL = ["succeeded", "failed", "aborted", "partially_succeeded"];

/** The stages of chain step i, each from the mark before it: [name, from, to]. */
const STAGES = [
  ["ready -> reply at the runner's socket (run's transaction, dispatcher, socket)", "ready", "sockIn"],
  ["reply -> lease taken on (parse, completion settled, lease loop)", "sockIn", "leased"],
  ["lease -> start asked (step's setup on the host: files, env, masks)", "leased", "spawn"],
  ["start asked -> process running (the launcher)", "spawn", "pid"],
  ["process running -> exit seen (the process)", "pid", "exit"],
  ["exit -> output read to its end (pipes closed)", "exit", "closed"],
  ["output read -> completion handed to the transport", "closed", "sent"],
  ["completion handed -> on the socket (batcher, serialisation)", "sent", "sockOut"],
  ["on the socket -> next step ready (socket, dispatcher, run's object)", "sockOut", "nextReady"],
];

/** Across two steps of the chain: [name, mark of step i, mark of step i + 1]. */
const BETWEEN = [
  ["output read -> successor's start asked (the runner between two steps)", "closed", "spawn"],
  ["output read -> successor taken on (its predecessor's work first)", "closed", "leased"],
];

const median = p50;

/** Per step of a finished chain, the time of each mark (epoch ms). */
function marks(details, lines) {
  const first = (stage, key, value) => lines.find((l) => l.stage === stage && l[key] === value)?.t;
  const nodes = details.nodes;
  return nodes.map((n, i) => {
    // Lease ids are `<run id>.<step index>.<dispatch seq>` (src/shared/lease-id.ts).
    const lease = lines.find((l) => l.stage === "leased" && l.lease.startsWith(`${details.dagRunId}.${i}.`))?.lease;
    const pid = lines.find((l) => l.stage === "pid" && l.lease === lease)?.pid;
    const out = lines.find((l) => l.stage === "sock-out" && l.path === `/leases/${encodeURIComponent(lease)}/complete`);
    return {
      name: n.step.name,
      lease,
      ready: n.readyAt,
      leased: first("leased", "lease", lease),
      spawn: first("spawn", "lease", lease),
      pid: first("pid", "lease", lease),
      exit: first("exit", "pid", pid),
      closed: first("closed", "lease", lease),
      sent: first("sent", "lease", lease),
      sockOut: out?.t,
      outCall: out?.call,
      nextReady: nodes[i + 1]?.readyAt,
    };
  });
}

/** p50 of each stage over a chain's steps (the first step has no reply to a completion). */
function stageFigures(details, lines) {
  const steps = marks(details, lines);
  const sockIn = new Map(lines.filter((l) => l.stage === "sock-in").map((l) => [l.call, l.t]));
  for (let i = 1; i < steps.length; i++) steps[i].sockIn = sockIn.get(steps[i - 1].outCall);
  const rows = STAGES.map(([label, from, to]) => [label, p50(steps.slice(1, -1).map((s) => s[to] - s[from]))]);
  const perStep = p50(steps.slice(0, -1).map((s) => s.nextReady - s.ready));
  // A step's exit to its successor's process running: the whole gap between two processes.
  const gap = p50(steps.slice(0, -1).map((s, i) => steps[i + 1].pid - s.exit));
  // The runner's own part of that gap: a step's output closed to its successor's start asked
  // (run ahead, no round trip lies on it), and of it, the time before the successor is taken on.
  const between = BETWEEN.map(([label, from, to]) => [
    label,
    p50(steps.slice(0, -1).map((s, i) => steps[i + 1][to] - s[from])),
  ]);
  return { rows, perStep, gap, between, wallMs: Date.parse(details.finishedAt) - Date.parse(details.startedAt) };
}

async function main() {
  if (bundles.length === 0) {
    buildRunner();
    bundles.push(RUNNER_BUNDLE);
  }
  // One bundle with several sets of flags: each set takes its turn as a bundle would.
  const flagsOf = bundles.map(() => []);
  if (runnerArgs.length > 0) {
    const bundle = bundles[0];
    bundles.length = 0;
    flagsOf.length = 0;
    for (const args of runnerArgs) {
      bundles.push(bundle);
      flagsOf.push(args);
    }
  }
  const stateDir = mkdtempSync(path.join(tmpdir(), "dagflare-stages-"));
  const workerOpts = {
    port: 8890 + Math.floor(Math.random() * 100),
    persistTo: stateDir,
    vars: { DAGFLARE_AUTH: "required", DAGFLARE_API_TOKEN: TOKEN, DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN },
  };
  if (!direct) applyMigrations(stateDir);
  const worker = direct ? await startDirectWorker(workerOpts) : await startWorker(workerOpts);
  const api = apiClient(worker.url, TOKEN);
  async function runChain(name, n) {
    const { dagRunId } = await api("POST", "/dag-runs", { spec: chainSpec(n, cmd), name });
    for (;;) {
      const { dagRunDetails: d } = await api("GET", `/dag-runs/${name}/${dagRunId}`);
      if (TERMINAL.includes(d.statusLabel)) return d;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The floor under the socket's trips: one `GET /health` round trip, which does no work (p50 of 20). */
  async function healthP50() {
    const times = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await (await fetch(`${worker.url}/api/v2/health`)).text();
      times.push(performance.now() - t);
    }
    return p50(times);
  }

  // results[bundle][size] = one figure set per round
  const results = bundles.map(() => new Map(sizes.map((n) => [n, []])));
  try {
    for (let round = 0; round < rounds; round++) {
      // Each round in the other order, so that neither side always runs after the other.
      const turns = [...bundles.entries()];
      if (round % 2 === 1) turns.reverse();
      for (const [b, bundle] of turns) {
        const runner = startTracedRunner({ bundle, server: worker.url, token: RUNNER_TOKEN, extra: flagsOf[b] });
        await runChain("stages-warmup", 3);
        const runs = [];
        for (const n of sizes) runs.push([n, await runChain(`stages-${n}`, n), loadavg()[0], await healthP50()]);
        const lines = await runner.stop();
        for (const [n, details, load, healthMs] of runs) {
          const figures = { ...stageFigures(details, lines), load, healthMs };
          results[b].get(n).push(figures);
          process.stderr.write(
            `round ${round + 1}, runner ${bundles.length > 1 ? (b === 0 ? "A" : "B") : ""}, ${n} steps: ` +
              `${figures.wallMs} ms, ${figures.perStep} ms per step, load ${load.toFixed(2)}\n`,
          );
        }
      }
    }
  } finally {
    await worker.stop();
  }

  console.log(
    `\nChains of \`${cmd}\` on ${direct ? "workerd through Miniflare" : "wrangler dev"}, ${rounds} round(s); ` +
      "each figure is the median over rounds of a run's p50 (ms).\n",
  );
  const columns = bundles.flatMap((_bundle, b) =>
    sizes.map((n) => ({ b, n, label: `${bundles.length > 1 ? `${b === 0 ? "A" : "B"}, ` : ""}${n} steps` })),
  );
  console.log(`| stage | ${columns.map((c) => c.label).join(" | ")} |`);
  console.log(`| --- | ${columns.map(() => "---").join(" | ")} |`);
  const cell = (c, pick) => median(results[c.b].get(c.n).map(pick));
  for (const [k, [label]] of STAGES.entries()) {
    console.log(`| ${label} | ${columns.map((c) => cell(c, (f) => f.rows[k][1]).toFixed(2)).join(" | ")} |`);
  }
  console.log(
    `| a chain step, ready -> next ready | ${columns.map((c) => cell(c, (f) => f.perStep).toFixed(1)).join(" | ")} |`,
  );
  for (const [k, [label]] of BETWEEN.entries()) {
    console.log(`| ${label} | ${columns.map((c) => cell(c, (f) => f.between[k][1]).toFixed(2)).join(" | ")} |`);
  }
  console.log(
    `| a process's exit -> its successor's process running | ${columns.map((c) => cell(c, (f) => f.gap).toFixed(1)).join(" | ")} |`,
  );
  console.log(`| the run's wall time | ${columns.map((c) => cell(c, (f) => f.wallMs).toFixed(0)).join(" | ")} |`);
  console.log(
    `| one \`GET /health\` round trip, after the run | ${columns.map((c) => cell(c, (f) => f.healthMs).toFixed(1)).join(" | ")} |`,
  );
  console.log(`| 1-minute load average | ${columns.map((c) => cell(c, (f) => f.load).toFixed(2)).join(" | ")} |`);
  if (bundles.length > 1)
    for (const [b, bundle] of bundles.entries())
      console.log(`${b === 0 ? "A" : "B"}: ${bundle} ${flagsOf[b].join(" ")}`.trimEnd());
}

await main();
