// Steps stored before steps had a phase (status plus flags) read back in the current shape.
// The rows below are what the previous engine stored for each state (JSON of its StepState,
// as the RunObject writes a step row), so the upgrade is checked against real shapes.
import { describe, expect, it } from "vitest";
import { createContext, type Phase, transition } from "../../../src/run/engine";
import { isOldShape, type StoredStep, upgradeStep } from "../../../src/run/object/stored-step";
import { dag, ok, step } from "./harness";

/** Step rows as the previous engine stored them, by the state the step was in. */
const rows: Record<string, string> = {
  idle: '{"name":"b","status":"not_started","attempt":0,"retryCount":0,"lostCount":0,"dispatchSeq":0,"queued":false,"doneTokens":[]}',
  held: '{"name":"b","status":"not_started","attempt":0,"retryCount":0,"lostCount":0,"dispatchSeq":0,"queued":false,"doneTokens":[],"pending":true}',
  queued:
    '{"name":"a","status":"not_started","attempt":0,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":true,"doneTokens":[],"pending":false,"readyAt":1000}',
  leased:
    '{"name":"a","status":"running","attempt":1,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":[],"pending":false,"lease":{"leaseId":"lt1","token":"t1","runnerId":"runner-a","expiresAt":6000,"cancelRequested":false,"confirmed":false},"readyAt":1000,"startedAt":1000}',
  running:
    '{"name":"a","status":"running","attempt":1,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":[],"pending":false,"lease":{"leaseId":"lt1","token":"t1","runnerId":"runner-a","expiresAt":11100,"cancelRequested":false,"confirmed":true},"readyAt":1000,"startedAt":1000}',
  cancelRequested:
    '{"name":"a","status":"running","attempt":1,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":[],"pending":false,"lease":{"leaseId":"lt1","token":"t1","runnerId":"runner-a","expiresAt":11000,"cancelRequested":true,"confirmed":true},"readyAt":1000,"startedAt":1000}',
  calling:
    '{"name":"call","status":"running","attempt":1,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":[],"pending":false,"child":{"runId":"r1-0-1"},"subRuns":["r1-0-1"],"readyAt":1000,"startedAt":1000}',
  callingStopped:
    '{"name":"call","status":"running","attempt":1,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":[],"pending":false,"child":{"runId":"r1-0-1","stopRequested":true},"subRuns":["r1-0-1"],"readyAt":1000,"startedAt":1000}',
  fannedOut:
    '{"name":"fan","status":"running","attempt":0,"retryCount":0,"lostCount":0,"dispatchSeq":0,"queued":false,"doneTokens":[],"pending":false,"readyAt":1000,"startedAt":1000,"instances":2}',
  instance:
    '{"name":"fan[1]","status":"not_started","attempt":0,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":true,"doneTokens":[],"item":"x","pending":false,"readyAt":1000}',
  waiting:
    '{"name":"gate","status":"waiting","attempt":0,"retryCount":0,"lostCount":0,"dispatchSeq":0,"queued":false,"doneTokens":[],"pending":false,"readyAt":1000}',
  succeeded:
    '{"name":"a","status":"succeeded","attempt":1,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":["t1"],"pending":false,"readyAt":1000,"startedAt":1000,"finishedAt":1100,"exitCode":0,"outputMatched":false,"doneCount":1}',
  retrying:
    '{"name":"a","status":"retrying","attempt":1,"retryCount":1,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":["t1"],"pending":false,"readyAt":1000,"startedAt":1000,"finishedAt":1000,"exitCode":1,"error":"exit status 1","outputMatched":false,"doneCount":1}',
  repeating:
    '{"name":"a","status":"running","attempt":1,"retryCount":0,"lostCount":0,"dispatchSeq":1,"queued":false,"doneTokens":["t1"],"pending":false,"readyAt":1000,"startedAt":1000,"exitCode":0,"outputMatched":false,"doneCount":1}',
};
const row = (state: string): StoredStep & { status: string } => JSON.parse(rows[state] ?? "") as StoredStep;

const noTimers = () => undefined;

describe("a step stored before phases", () => {
  // Each row: the state the step was stored in, what it means, the phase it reads back as.
  it.each<[string, string, Phase]>([
    ["idle", "a step not ready yet is idle", { kind: "idle" }],
    ["held", "a step held back by maxActiveSteps is held", { kind: "held" }],
    ["queued", "a dispatched step is queued", { kind: "queued" }],
    [
      "leased",
      "a lease its runner has not confirmed is leased, without the confirmed flag",
      {
        kind: "leased",
        lease: { leaseId: "lt1", token: "t1", runnerId: "runner-a", expiresAt: 6000, cancelRequested: false },
      },
    ],
    [
      "running",
      "a confirmed lease is running",
      {
        kind: "running",
        lease: { leaseId: "lt1", token: "t1", runnerId: "runner-a", expiresAt: 11100, cancelRequested: false },
      },
    ],
    [
      "cancelRequested",
      "a lease of a stopped run keeps its cancel request",
      {
        kind: "running",
        lease: { leaseId: "lt1", token: "t1", runnerId: "runner-a", expiresAt: 11000, cancelRequested: true },
      },
    ],
    [
      "calling",
      "a call step with its sub-DAG run under way is calling",
      { kind: "calling", childRunId: "r1-0-1", stopRequested: false },
    ],
    [
      "callingStopped",
      "a call step of a stopped run remembers the stop",
      { kind: "calling", childRunId: "r1-0-1", stopRequested: true },
    ],
    ["fannedOut", "a running fan-out step with instances is fanned out", { kind: "fannedOut" }],
    ["instance", "an instance of a fan-out step keeps its item", { kind: "queued" }],
    ["waiting", "a step waiting for approval awaits approval", { kind: "awaitingApproval" }],
    ["succeeded", "a finished step is done with its status", { kind: "done", status: "succeeded" }],
  ])("reads a %s row (%s) as its phase, its status unchanged", (state, _means, phase) => {
    const step = upgradeStep(row(state), noTimers);
    expect(step.phase).toEqual(phase);
    expect(step.status).toBe(row(state).status);
  });

  it("reads a failed attempt waiting for its retry as retryWait, due when its timer is", () => {
    const step = upgradeStep(row("retrying"), (key) => (key === "retry:a" ? 31_000 : undefined));
    expect(step.phase).toEqual({ kind: "retryWait", at: 31_000 });
    expect(step.status).toBe("retrying");
    expect(step).toMatchObject({ retryCount: 1, error: "exit status 1", exitCode: 1 });
  });

  it("reads a running step with no lease, call or instances as waiting for its next repeat", () => {
    const step = upgradeStep(row("repeating"), (key) => (key === "repeat:a" ? 61_000 : undefined));
    expect(step.phase).toEqual({ kind: "repeatWait", at: 61_000 });
    expect(step.status).toBe("running");
  });

  it("drops the flags and keeps every other field", () => {
    const { queued: _q, pending: _p, status: _s, child: _c, ...kept } = JSON.parse(rows.calling ?? "");
    const step = upgradeStep(row("calling"), noTimers);
    expect(step).toEqual({
      ...kept,
      status: "running",
      phase: { kind: "calling", childRunId: "r1-0-1", stopRequested: false },
    });
  });

  it("leaves a row in the current shape as it is", () => {
    const current = upgradeStep(row("running"), noTimers);
    expect(isOldShape(current)).toBe(false);
    expect(upgradeStep(current, noTimers)).toBe(current);
  });

  it("lets an upgraded run go on: the runner's completion of an upgraded lease is accepted", () => {
    const d = { ...dag(step("a"), step("b")), maxActiveSteps: 1 };
    const ctx = createContext(d, 10_000);
    const a = upgradeStep(row("running"), noTimers);
    const b = upgradeStep(row("held"), noTimers);
    const state = {
      runId: "r1",
      dagName: "d",
      status: "running" as const,
      stopRequested: false,
      createdAt: 1000,
      startedAt: 1000,
      outputs: {},
      steps: { a, b },
    };
    const t = transition(ctx, state, { type: "complete", step: "a", token: "t1", result: ok }, 2000);
    expect(t.reply).toEqual({ kind: "completed", accepted: true });
    expect(t.state.steps.a?.status).toBe("succeeded");
    // The step held back by maxActiveSteps takes the freed slot.
    expect(t.state.steps.b?.phase).toEqual({ kind: "queued" });
    expect(t.effects).toContainEqual({ type: "dispatch", step: "b", dispatchSeq: 1 });
  });
});
