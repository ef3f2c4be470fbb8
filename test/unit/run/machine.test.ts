import { describe, expect, it } from "vitest";
import {
  CONFIRM_WITHIN_MS,
  createContext,
  deriveRunStatus,
  initialState,
  MAX_LOST_ATTEMPTS,
  type RunState,
  TIMEOUT_GRACE_MS,
  timerKey,
  transition,
} from "../../../src/run/engine";

import { dag, exit, Harness, ok, step, TTL } from "./harness";

describe("run state machine", () => {
  it("dispatches only the steps without dependencies when the run starts", () => {
    const h = new Harness(dag(step("a"), step("b"), step("c", { depends: ["a", "b"] })));
    h.fire({ type: "start" });
    expect(h.state.status).toBe("running");
    expect(h.dispatched()).toEqual(["a", "b"]);
  });

  it("dispatches a step once all of its dependencies succeeded and then succeeds the run", () => {
    const h = new Harness(
      dag(step("a"), step("b", { depends: ["a"] }), step("c", { depends: ["a"] }), step("d", { depends: ["b", "c"] })),
    );
    h.fire({ type: "start" });
    h.run("a");
    expect(h.dispatched()).toEqual(["a", "b", "c"]);
    h.run("b");
    expect(h.dispatched()).not.toContain("d");
    h.run("c");
    expect(h.dispatched()).toContain("d");
    h.run("d");
    expect(h.state.status).toBe("succeeded");
    expect(h.effects.filter((e) => e.type === "runStatus")).toEqual([
      { type: "runStatus", status: "running" },
      { type: "runStatus", status: "succeeded" },
    ]);
  });

  it("aborts the dependents of a failed step and fails the run", () => {
    const h = new Harness(dag(step("a"), step("b", { depends: ["a"] }), step("c", { depends: ["b"] })));
    h.fire({ type: "start" });
    h.run("a", exit(3));
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.error).toBe("exit status 3");
    expect(h.status("b")).toBe("aborted");
    expect(h.status("c")).toBe("aborted");
    expect(h.state.status).toBe("failed");
  });

  it.each([
    ["continueOn.failure", { failure: true, skipped: false, exitCode: [] }, 1],
    ["continueOn.exitCode", { failure: false, skipped: false, exitCode: [42] }, 42],
  ])("runs dependents after a failure allowed by %s and ends partially_succeeded", (_label, continueOn, code) => {
    const h = new Harness(dag(step("a", { continueOn }), step("b", { depends: ["a"] })));
    h.fire({ type: "start" });
    h.run("a", exit(code));
    expect(h.status("a")).toBe("failed");
    expect(h.dispatched()).toContain("b");
    h.run("b");
    expect(h.state.status).toBe("partially_succeeded");
  });

  it("fails the run when an exit code is not one continueOn.exitCode allows", () => {
    const h = new Harness(
      dag(step("a", { continueOn: { failure: false, skipped: false, exitCode: [42] } }), step("b", { depends: ["a"] })),
    );
    h.fire({ type: "start" });
    h.run("a", exit(1));
    expect(h.status("b")).toBe("aborted");
    expect(h.state.status).toBe("failed");
  });

  it("retries a failed step after intervalSec through a timer, then succeeds", () => {
    const h = new Harness(dag(step("a", { retryPolicy: { limit: 2, intervalSec: 5 } })));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    expect(h.status("a")).toBe("retrying");
    expect(h.state.steps.a?.retryCount).toBe(1);
    expect(h.effects).toContainEqual({ type: "setTimer", key: timerKey.retry("a"), at: h.now + 5_000 });
    expect(h.dispatched()).toEqual(["a"]);
    h.now += 5_000;
    h.fire({ type: "timer", key: timerKey.retry("a") });
    expect(h.dispatched()).toEqual(["a", "a"]);
    h.run("a");
    expect(h.status("a")).toBe("succeeded");
    expect(h.state.steps.a?.attempt).toBe(2);
    expect(h.state.status).toBe("succeeded");
  });

  it("fails a step once its retries are used up", () => {
    const h = new Harness(dag(step("a", { retryPolicy: { limit: 1, intervalSec: 0 } })));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    expect(h.status("a")).not.toBe("failed");
    h.run("a", exit(2));
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.retryCount).toBe(1);
    expect(h.state.status).toBe("failed");
  });

  it("refuses a claim for a dispatch that was superseded", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const seq = h.state.steps.a?.dispatchSeq ?? 0;
    h.claim("a");
    const reply = h.fire({ type: "claim", step: "a", dispatchSeq: seq, runnerId: "b", leaseId: "x", token: "other" });
    expect(reply).toEqual({ kind: "stale", reason: "this dispatch is no longer wanted" });
  });

  it("accepts a completion only with the current lease token", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const token = h.claim("a");
    expect(h.fire({ type: "complete", step: "a", token: "forged", result: ok }).kind).toBe("stale");
    expect(h.status("a")).toBe("running");
    expect(h.fire({ type: "complete", step: "a", token, result: ok })).toEqual({ kind: "completed", accepted: true });
  });

  it("answers a repeated completion without applying it twice", () => {
    const h = new Harness(dag(step("a", { retryPolicy: { limit: 3, intervalSec: 0 } })));
    h.fire({ type: "start" });
    const token = h.claim("a");
    h.fire({ type: "complete", step: "a", token, result: exit(1) });
    const retryCount = h.state.steps.a?.retryCount;
    expect(h.fire({ type: "complete", step: "a", token, result: exit(1) })).toEqual({
      kind: "completed",
      accepted: false,
    });
    expect(h.state.steps.a?.retryCount).toBe(retryCount);
  });

  it("takes back a lease its runner never confirmed without counting an attempt", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    h.claim("a", "runner-gone");
    h.now += CONFIRM_WITHIN_MS;
    h.fire({ type: "timer", key: timerKey.lease("a") });
    expect(h.state.steps.a).toMatchObject({
      status: "not_started",
      attempt: 0,
      lostCount: 0,
      phase: { kind: "queued" },
    });
    expect(h.effects).toContainEqual({ type: "runnerLost", runnerId: "runner-gone", at: h.now });
  });

  it("extends a lease on heartbeat and re-dispatches the step when the lease expires", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const token = h.claim("a");
    h.now += CONFIRM_WITHIN_MS - 1;
    expect(h.fire({ type: "heartbeat", step: "a", token })).toEqual({ kind: "heartbeat", cancel: false });
    h.now += TTL - 1;
    expect(h.fire({ type: "heartbeat", step: "a", token })).toEqual({ kind: "heartbeat", cancel: false });
    h.now += TTL - 1;
    h.fire({ type: "timer", key: timerKey.lease("a") });
    expect(h.status("a")).toBe("running");
    h.now += 1;
    h.fire({ type: "timer", key: timerKey.lease("a") });
    expect(h.state.steps.a?.lostCount).toBe(1);
    expect(h.dispatched()).toEqual(["a", "a"]);
    expect(h.fire({ type: "complete", step: "a", token, result: ok }).kind).toBe("stale");
    h.run("a");
    expect(h.state.status).toBe("succeeded");
  });

  it(`fails a step that lost its runner ${MAX_LOST_ATTEMPTS} times`, () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    for (let i = 0; i < MAX_LOST_ATTEMPTS; i++) {
      const token = h.claim("a");
      h.fire({ type: "heartbeat", step: "a", token });
      h.now += TTL;
      h.fire({ type: "timer", key: timerKey.lease("a") });
    }
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.error).toMatch(/lost its runner 3 times/);
    expect(h.state.status).toBe("failed");
  });

  it("fails the attempt when the runner never reports a timeout", () => {
    const h = new Harness(dag(step("a", { timeoutSec: 2 })));
    h.fire({ type: "start" });
    const token = h.claim("a");
    expect(h.effects).toContainEqual({
      type: "setTimer",
      key: timerKey.timeout("a"),
      at: h.now + 2_000 + TIMEOUT_GRACE_MS,
    });
    h.now += 2_000 + TIMEOUT_GRACE_MS;
    h.fire({ type: "heartbeat", step: "a", token });
    h.fire({ type: "timer", key: timerKey.timeout("a") });
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.error).toMatch(/timed out/);
  });

  it("marks a step the runner reports as timed out as failed", () => {
    const h = new Harness(dag(step("a", { timeoutSec: 1 })));
    h.fire({ type: "start" });
    h.run("a", { exitCode: null, signal: "SIGTERM", timedOut: true, cancelled: false });
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.error).toBe("timed out");
  });

  it("on stop aborts waiting steps, asks runners to cancel running ones, and ends aborted", () => {
    const h = new Harness(dag(step("a"), step("b"), step("c", { depends: ["a"] })));
    h.fire({ type: "start" });
    const token = h.claim("a");
    h.fire({ type: "stop" });
    expect(h.status("b")).toBe("aborted");
    expect(h.status("c")).toBe("aborted");
    expect(h.status("a")).toBe("running");
    expect(h.fire({ type: "heartbeat", step: "a", token })).toEqual({ kind: "heartbeat", cancel: true });
    h.fire({
      type: "complete",
      step: "a",
      token,
      result: { exitCode: null, signal: "SIGTERM", timedOut: false, cancelled: true },
    });
    expect(h.status("a")).toBe("aborted");
    expect(h.state.status).toBe("aborted");
  });

  it("aborts a cancelled step whose runner vanished when its lease expires", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    h.claim("a");
    h.fire({ type: "stop" });
    h.now += CONFIRM_WITHIN_MS;
    h.fire({ type: "timer", key: timerKey.lease("a") });
    expect(h.status("a")).toBe("aborted");
    expect(h.state.status).toBe("aborted");
  });

  it("dispatches a released step again without counting the attempt", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const token = h.claim("a");
    h.fire({ type: "release", step: "a", token, reason: "draining" });
    expect(h.status("a")).toBe("not_started");
    expect(h.state.steps.a?.attempt).toBe(0);
    expect(h.dispatched()).toEqual(["a", "a"]);
  });

  it("records an output variable of a succeeded step", () => {
    const h = new Harness(dag(step("a", { output: "GREETING" })));
    h.fire({ type: "start" });
    h.run("a", { ...ok, output: "hello" });
    expect(h.state.outputs).toEqual({ GREETING: "hello" });
  });

  it("never changes the state it was given", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const before = structuredClone(h.state);
    const frozen = h.state;
    transition(h.ctx, frozen, { type: "stop" }, h.now);
    expect(frozen).toEqual(before);
  });
});

describe("deriveRunStatus", () => {
  const d = dag(step("a"), step("b", { continueOn: { failure: true, skipped: false, exitCode: [] } }));
  const ctx = createContext(d, TTL);
  const withStatuses = (a: string, b: string, stop = false): RunState => {
    const s = initialState("r", d, 0);
    return {
      ...s,
      stopRequested: stop,
      steps: {
        a: { ...(s.steps.a as RunState["steps"][string]), status: a as never },
        b: { ...(s.steps.b as RunState["steps"][string]), status: b as never },
      },
    };
  };

  it.each([
    ["succeeded", "succeeded", false, "succeeded"],
    ["succeeded", "failed", false, "partially_succeeded"],
    ["failed", "succeeded", false, "failed"],
    ["aborted", "succeeded", false, "failed"],
    ["succeeded", "aborted", true, "aborted"],
    ["succeeded", "succeeded", true, "succeeded"],
    ["skipped", "failed", false, "failed"],
  ])("a=%s b=%s stop=%s gives %s", (a, b, stop, want) => {
    expect(deriveRunStatus(ctx, withStatuses(a, b, stop))).toBe(want);
  });
});
