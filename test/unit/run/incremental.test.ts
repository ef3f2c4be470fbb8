// An event costs what it changes: the engine keeps counts step by step (run-index.ts), writes the
// step table in place (step-table.ts) and names the steps it wrote (`changed`), and the
// RunObject stores, pushes live and turns into webhook events only those steps. These tests
// drive random runs and check each event against the same work done from scratch.
import { describe, expect, it } from "vitest";
import type { DagDef, StepDef } from "../../../src/dag/types";
import {
  createContext,
  type Effect,
  initialState,
  inStepOrder,
  leaseOf,
  type MachineContext,
  type RunEvent,
  type RunState,
  transition,
} from "../../../src/run/engine";
import { runEvents } from "../../../src/webhooks/run-events";
import { dag, exit, step, TTL } from "./harness";

/** A small seeded generator (mulberry32), so that a failing seed can be run again. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T | undefined => xs[Math.floor(next() * xs.length)],
  };
}

/** A DAG of 5 to 24 steps depending on earlier ones, with retries, continueOn, approvals, handlers. */
function randomDag(r: ReturnType<typeof random>): DagDef {
  const steps: StepDef[] = [];
  const n = 5 + r.int(20);
  for (let i = 0; i < n; i++) {
    const depends = i > 0 && r.chance(0.6) ? [`s${r.int(i)}`] : [];
    steps.push(
      step(`s${i}`, {
        depends,
        ...(r.chance(0.3) && { retryPolicy: { limit: 1 + r.int(2), intervalSec: r.int(3) } }),
        ...(r.chance(0.2) && { continueOn: { failure: true, skipped: false, exitCode: [] } }),
        ...(r.chance(0.1) && { approval: {} }),
      }),
    );
  }
  const d = dag(...steps);
  if (r.chance(0.5)) d.maxActiveSteps = 1 + r.int(4);
  if (r.chance(0.5)) d.handlerOn = { exit: step("onExit"), failure: step("onFailure") };
  return d;
}

/** One event a user, a runner or a timer could send now, stale ones included. */
function randomEvent(r: ReturnType<typeof random>, state: RunState, timers: Map<string, number>, n: number): RunEvent {
  const steps = Object.values(state.steps);
  const queued = steps.filter((s) => s.phase.kind === "queued");
  const leased = steps.filter((s) => leaseOf(s) !== undefined);
  const waiting = steps.filter((s) => s.phase.kind === "awaitingApproval");
  const roll = r.int(100);
  const q = r.pick(queued);
  if (roll < 35 && q) {
    const token = `t${n}`;
    return { type: "claim", step: q.name, dispatchSeq: q.dispatchSeq, runnerId: "runner", leaseId: `l${n}`, token };
  }
  const l = r.pick(leased);
  const token = l && (r.chance(0.95) ? (leaseOf(l)?.token ?? "none") : "stale");
  if (roll < 70 && l && token) return { type: "complete", step: l.name, token, result: exit(r.chance(0.7) ? 0 : 1) };
  if (roll < 75 && l && token) return { type: "heartbeat", step: l.name, token };
  if (roll < 78 && l && token) return { type: "release", step: l.name, token, reason: "draining" };
  const w = r.pick(waiting);
  if (roll < 85 && w) return { type: "approve", step: w.name, approved: r.chance(0.8) };
  const key = r.pick([...timers.keys()]);
  if (roll < 97 && key) return { type: "timer", key };
  if (roll < 98) return { type: "stop" };
  const any = r.pick(steps);
  if (roll < 99 && any) return { type: "retry", steps: [any.name] };
  return { type: "heartbeat", step: any?.name ?? "s0", token: "stale" };
}

function applyTimers(timers: Map<string, number>, effects: Effect[]): void {
  for (const e of effects) {
    if (e.type === "setTimer") timers.set(e.key, e.at);
    if (e.type === "clearTimer") timers.delete(e.key);
  }
}

/** What JSON keeps of a value, its keys sorted: equal for equal values whatever their keys' order. */
const plain = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

/** The steps whose stored row (their JSON) differs between two states. */
function rowsThatDiffer(before: RunState, after: RunState): string[] {
  const names = new Set([...Object.keys(before.steps), ...Object.keys(after.steps)]);
  return [...names].filter((n) => JSON.stringify(before.steps[n]) !== JSON.stringify(after.steps[n]));
}

interface Checked {
  events: number;
  /** Per event: the transition from the engine's own state against the one from a stored copy. */
  onEach: (a: {
    ctx: MachineContext;
    before: RunState;
    incremental: ReturnType<typeof transition>;
    fromScratch: ReturnType<typeof transition>;
    event: RunEvent;
    now: number;
  }) => void;
}

/** Runs `seed`'s random run, comparing every event on the kept state with one on a copy read back from storage. */
function drive(seed: number, check: Checked["onEach"]): number {
  const r = random(seed);
  const d = randomDag(r);
  let ctx = createContext(d, TTL);
  let state = initialState("r1", d, 1_000);
  let now = 1_000;
  const timers = new Map<string, number>();
  let events = 0;
  for (let n = 0; n < 150; n++) {
    const event: RunEvent = n === 0 ? { type: "start" } : randomEvent(r, state, timers, n);
    if (event.type === "timer") now = Math.max(now, timers.get(event.key) ?? now);
    now += r.int(50);
    // A state read back from storage has no index and a table of its own: both are built anew.
    const stored = JSON.parse(JSON.stringify(state)) as RunState;
    const fromScratch = transition(ctx, stored, event, now);
    const before = state;
    const incremental = transition(ctx, before, event, now);
    check({ ctx, before, incremental, fromScratch, event, now });
    applyTimers(timers, incremental.effects);
    ({ state, context: ctx } = incremental);
    events++;
  }
  return events;
}

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

describe("an event costs what it changes", { timeout: 30_000 }, () => {
  it("gives the same state, effects and reply as the same event on the run read back from storage", () => {
    for (const seed of SEEDS) {
      drive(seed, ({ incremental, fromScratch }) => {
        expect(plain(incremental.state), `seed ${seed}`).toBe(plain(fromScratch.state));
        expect(plain(incremental.effects), `seed ${seed}`).toBe(plain(fromScratch.effects));
        expect(plain(incremental.reply), `seed ${seed}`).toBe(plain(fromScratch.reply));
      });
    }
  });

  it("names every step whose stored row the event changed", () => {
    for (const seed of SEEDS) {
      drive(seed, ({ before, incremental }) => {
        const changed = new Set(incremental.changed);
        for (const name of rowsThatDiffer(before, incremental.state)) expect(changed, `seed ${seed}`).toContain(name);
      });
    }
  });

  it("leaves the state it was given reading as it was", () => {
    for (const seed of SEEDS) {
      drive(seed, ({ before, fromScratch, event, now, ctx }) => {
        // `fromScratch` began from a copy of `before` taken before the event.
        const again = transition(ctx, JSON.parse(JSON.stringify(before)) as RunState, event, now);
        expect(plain(again.state), `seed ${seed}`).toBe(plain(fromScratch.state));
      });
    }
  });

  it("sends the webhook events of the steps it wrote, in step order, as a look at every step would", () => {
    let events = 0;
    for (const seed of SEEDS) {
      drive(seed, ({ before, incremental, now, ctx }) => {
        const everyStep = inStepOrder(incremental.context, Object.keys(incremental.state.steps));
        const fromChanged = runEvents(before, incremental.state, now, inStepOrder(ctx, incremental.changed));
        const fromAll = runEvents(before, incremental.state, now, everyStep);
        // Event ids are random: compare what they say.
        const said = (xs: typeof fromAll) => xs.map(({ subject, event }) => ({ subject, data: event.data }));
        expect(said(fromChanged), `seed ${seed}`).toEqual(said(fromAll));
        events += fromAll.length;
      });
    }
    // The runs did send events: the comparison was not of empty lists.
    expect(events).toBeGreaterThan(200);
  });
});
