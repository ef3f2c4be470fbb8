import { expect } from "vitest";
import type { DagDef, StepDef } from "../../../src/dag/types";
import {
  createContext,
  type Effect,
  initialState,
  leaseOf,
  type RunEvent,
  type RunState,
  type StepResult,
  transition,
} from "../../../src/run/engine";

export const TTL = 10_000;

export function step(name: string, over: Partial<StepDef> = {}): StepDef {
  return {
    name,
    command: `echo ${name}`,
    depends: [],
    env: [],
    retryPolicy: { limit: 0, intervalSec: 0 },
    continueOn: { failure: false, skipped: false, exitCode: [] },
    ...over,
  };
}

export function dag(...steps: StepDef[]): DagDef {
  return { name: "d", tags: [], type: "graph", env: [], params: [], steps };
}

export const ok: StepResult = { exitCode: 0, signal: null, timedOut: false, cancelled: false };
export const exit = (code: number): StepResult => ({ ...ok, exitCode: code });

/** Drives one run through the machine the way the RunObject does, recording effects. */
export class Harness {
  ctx;
  state: RunState;
  now = 1_000;
  effects: Effect[] = [];
  private tokens = 0;

  constructor(d: DagDef) {
    this.ctx = createContext(d, TTL);
    this.state = initialState("r1", d, this.now);
  }
  fire(event: RunEvent) {
    const t = transition(this.ctx, this.state, event, this.now);
    this.state = t.state;
    this.ctx = t.context;
    this.effects.push(...t.effects);
    return t.reply;
  }
  status(name: string) {
    return this.state.steps[name]?.status;
  }
  /** The lease a runner holds on the step, confirmed or not. */
  lease(name: string) {
    const s = this.state.steps[name];
    return s && leaseOf(s);
  }
  /** Dispatched and waiting for a runner's claim. */
  queued(name: string): boolean {
    return this.state.steps[name]?.phase.kind === "queued";
  }
  /** The sub-DAG run a call step waits for ("none" when it waits for none). */
  childRunId(name: string): string {
    const p = this.state.steps[name]?.phase;
    return p?.kind === "calling" ? p.childRunId : "none";
  }
  dispatched(): string[] {
    return this.effects.filter((e) => e.type === "dispatch").map((e) => (e as { step: string }).step);
  }
  /** Claims a queued step for a runner and returns its token. */
  claim(name: string, runnerId = "runner-a"): string {
    const s = this.state.steps[name];
    if (s?.phase.kind !== "queued") throw new Error(`${name} is not queued`);
    const token = `t${++this.tokens}`;
    const reply = this.fire({
      type: "claim",
      step: name,
      dispatchSeq: s.dispatchSeq,
      runnerId,
      leaseId: `l${token}`,
      token,
    });
    expect(reply.kind).toBe("claimed");
    return token;
  }
  run(name: string, result: StepResult = ok) {
    const token = this.claim(name);
    return this.fire({ type: "complete", step: name, token, result });
  }
}
