// The engine alone: drives the pure `transition` through a 2,000-step wide run and a 2,000-step
// chain (a claim and a completion per step, as a runner would), with no I/O, and prints events/s.
// It measures; it asserts nothing. Run with `npm run bench:engine`; `-- --steps N` for another
// size; `-- --engine DIR` to measure another copy of the engine (say, an older commit's, exported
// with `git archive`), whose module exports createContext, initialState and transition;
// `-- --against DIR` to measure this engine and another copy in the same process, alternating
// round by round (on a shared machine, the fairest comparison: both see the same load);
// `-- --webhooks changed|every` to also turn each event into its webhook events as the RunObject
// does when a webhook exists, from the steps the event wrote or from every step.
import { pathToFileURL } from "node:url";
import type { DagDef, StepDef } from "../src/dag/types";
import type * as Engine from "../src/run/engine";
import { inStepOrder, type RunEvent, type RunState } from "../src/run/engine";
import { runEvents } from "../src/webhooks/run-events";

const option = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const STEPS = Number(option("--steps") ?? 2000);
const ROUNDS = 5;
const other = option("--engine");
const against = option("--against");
const webhooks = option("--webhooks");
if (webhooks !== undefined && webhooks !== "changed" && webhooks !== "every") {
  throw new Error(`--webhooks is "changed" or "every", not "${webhooks}"`);
}
const load = async (path?: string): Promise<typeof Engine> =>
  import(path ? pathToFileURL(path).href : "../src/run/engine/index.ts");
const engines: Array<[string, typeof Engine]> = [[against ? "this engine" : "", await load(other)]];
if (against) engines.push([against, await load(against)]);

function stepDef(name: string, depends: string[]): StepDef {
  return {
    name,
    command: "true",
    depends,
    env: [],
    retryPolicy: { limit: 0, intervalSec: 0 },
    continueOn: { failure: false, skipped: false, exitCode: [] },
  };
}

function wide(n: number): DagDef {
  const steps = Array.from({ length: n }, (_, i) => stepDef(`s${i}`, []));
  return { name: "wide", tags: [], type: "graph", env: [], params: [], steps };
}

function chain(n: number): DagDef {
  const steps = Array.from({ length: n }, (_, i) => stepDef(`s${i}`, i ? [`s${i - 1}`] : []));
  return { name: "chain", tags: [], type: "graph", env: [], params: [], steps };
}

/** Runs the DAG to its end; returns the number of events fed to the engine. */
function drive({ createContext, initialState, transition }: typeof Engine, dag: DagDef): number {
  let now = 1_000;
  let ctx = createContext(dag, 10_000);
  let state: RunState = initialState("r", dag, now);
  let events = 0;
  const ready: Array<{ step: string; dispatchSeq: number }> = [];
  const fire = (e: RunEvent) => {
    const t = transition(ctx, state, e, now++);
    if (webhooks) {
      const names = webhooks === "changed" ? t.changed : Object.keys(t.state.steps);
      runEvents(state, t.state, now, inStepOrder(t.context, names));
    }
    state = t.state;
    ctx = t.context;
    events++;
    for (const x of t.effects) if (x.type === "dispatch") ready.push({ step: x.step, dispatchSeq: x.dispatchSeq });
    return t.reply;
  };
  fire({ type: "start" });
  let token = 0;
  while (ready.length) {
    const { step, dispatchSeq } = ready.shift() as { step: string; dispatchSeq: number };
    const t = `t${++token}`;
    fire({ type: "claim", step, dispatchSeq, runnerId: "r1", leaseId: `l${t}`, token: t });
    fire({
      type: "complete",
      step,
      token: t,
      result: { exitCode: 0, signal: null, timedOut: false, cancelled: false },
    });
  }
  if (state.status !== "succeeded") throw new Error(`the run ended ${state.status}`);
  return events;
}

for (const [label, dag] of [
  [`wide, ${STEPS} independent steps`, wide(STEPS)],
  [`chain, ${STEPS} steps`, chain(STEPS)],
] as const) {
  const rates = engines.map((): number[] => []);
  for (const [, engine] of engines) drive(engine, dag); // warm-up: the first run also compiles the engine
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating which engine goes first, so neither always meets the machine's load first.
    const order = r % 2 ? [...engines.keys()].reverse() : [...engines.keys()];
    for (const i of order) {
      const t0 = performance.now();
      const events = drive((engines[i] as [string, typeof Engine])[1], dag);
      rates[i]?.push(events / ((performance.now() - t0) / 1000));
    }
  }
  engines.forEach(([name], i) => {
    const sorted = (rates[i] ?? []).sort((a, b) => a - b);
    const median = sorted[Math.floor(ROUNDS / 2)] ?? 0;
    const who = name ? ` (${name})` : "";
    console.log(`${label}${who}: ${Math.round(median).toLocaleString("en")} events/s (median of ${ROUNDS})`);
  });
}
