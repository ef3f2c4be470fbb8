// Manual control in the pure machine: retrying steps of a finished run in place, and setting a
// step's status by hand.
import { describe, expect, it } from "vitest";
import { DAG_PRECONDITIONS_STEP } from "../../../src/run/engine";
import { dag, exit, Harness, ok, step } from "./harness";

/** a -> b -> c, with b failing the first time. */
function failedChain() {
  const h = new Harness(dag(step("a"), step("b", { depends: ["a"] }), step("c", { depends: ["b"] })));
  h.fire({ type: "start" });
  h.run("a", { ...ok, output: "x" });
  h.run("b", exit(1));
  expect(h.state.status).toBe("failed");
  expect(h.status("c")).toBe("aborted");
  return h;
}

describe("retry", () => {
  it("refuses a run that is not finished", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    expect(h.fire({ type: "retry", steps: ["a"] })).toEqual({
      kind: "manual",
      ok: false,
      reason: "the run is running",
    });
    expect(h.dispatched()).toEqual(["a"]);
  });

  it("a retried run starts again at the retry: its start time is the retry's", () => {
    const h = failedChain();
    const firstStart = h.state.startedAt;
    h.now += 60_000;
    h.fire({ type: "retry", steps: ["b", "c"] });
    expect(h.state.startedAt).toBe(h.now);
    expect(h.state.startedAt).not.toBe(firstStart);
  });

  it("failed steps only: reruns the failed and aborted steps, keeps the succeeded, the run ends succeeded", () => {
    const h = failedChain();
    const dispatchedBefore = h.dispatched().length;
    expect(h.fire({ type: "retry", steps: ["b", "c"] })).toEqual({ kind: "manual", ok: true });
    expect(h.state.status).toBe("running");
    expect(h.state.finishedAt).toBeUndefined();
    expect(h.dispatched().slice(dispatchedBefore)).toEqual(["b"]);
    expect(h.status("a")).toBe("succeeded");
    expect(h.status("c")).toBe("not_started");
    h.run("b");
    // The attempt count goes on, so the logs of the first attempt stay readable.
    expect(h.state.steps.b?.attempt).toBe(2);
    h.run("c");
    expect(h.state.status).toBe("succeeded");
    expect(h.effects.filter((e) => e.type === "runStatus").map((e) => (e as { status: string }).status)).toEqual([
      "running",
      "failed",
      "running",
      "succeeded",
    ]);
  });

  it("one step without its dependents: the dependents keep their outcome", () => {
    const h = failedChain();
    h.fire({ type: "retry", steps: ["b"] });
    h.run("b");
    expect(h.status("b")).toBe("succeeded");
    expect(h.status("c")).toBe("aborted");
    expect(h.state.status).toBe("failed");
  });

  it("a rerun step whose upstream failed is aborted again at once", () => {
    const h = failedChain();
    h.fire({ type: "retry", steps: ["c"] });
    expect(h.status("c")).toBe("aborted");
    expect(h.state.steps.c?.error).toBe("upstream step b failed");
    expect(h.state.status).toBe("failed");
  });

  it("every step: the DAG's preconditions are checked again first, outputs are kept until replaced", () => {
    const h = new Harness({ ...dag(step("a", { output: "OUT" })), preconditions: [{ condition: "true" }] });
    h.fire({ type: "start" });
    h.run(DAG_PRECONDITIONS_STEP);
    h.run("a", { ...ok, output: "one" });
    expect(h.state.status).toBe("succeeded");
    const before = h.dispatched().length;
    h.fire({ type: "retry", steps: ["a"], all: true });
    expect(h.dispatched().slice(before)).toEqual([DAG_PRECONDITIONS_STEP]);
    expect(h.state.outputs).toEqual({ OUT: "one" });
    h.run(DAG_PRECONDITIONS_STEP);
    h.run("a", { ...ok, output: "two" });
    expect(h.state.outputs).toEqual({ OUT: "two" });
    expect(h.state.status).toBe("succeeded");
  });

  it("a rejected run retried waits for approval again and may now succeed", () => {
    const h = new Harness(dag(step("a"), step("gate", { approval: {}, depends: ["a"] })));
    h.fire({ type: "start" });
    h.run("a");
    h.fire({ type: "approve", step: "gate", approved: false });
    expect(h.state.status).toBe("rejected");
    h.fire({ type: "retry", steps: ["gate"] });
    expect(h.status("gate")).toBe("waiting");
    expect(h.state.status).toBe("waiting");
    h.fire({ type: "approve", step: "gate", approved: true });
    h.run("gate");
    expect(h.state.status).toBe("succeeded");
  });

  it("handlers run again at the end of a retry, with the new status", () => {
    const h = new Harness({
      ...dag(step("a")),
      handlerOn: { failure: step("onFailure"), success: step("onSuccess") },
    });
    h.fire({ type: "start" });
    h.run("a", exit(1));
    h.run("onFailure");
    expect(h.state.status).toBe("failed");
    h.fire({ type: "retry", steps: ["a"] });
    h.run("a");
    expect(h.dispatched().at(-1)).toBe("onSuccess");
    h.run("onSuccess");
    expect(h.state.status).toBe("succeeded");
    // Reset with the retry: it did not run this time.
    expect(h.status("onFailure")).toBe("not_started");
  });
});

describe("setting a step's status by hand", () => {
  it("derives the run's status again", () => {
    const h = failedChain();
    expect(h.fire({ type: "setStatus", step: "b", status: "succeeded" })).toEqual({ kind: "manual", ok: true });
    expect(h.state.status).toBe("failed"); // c is still aborted
    h.fire({ type: "setStatus", step: "c", status: "skipped" });
    expect(h.state.status).toBe("succeeded");
    expect(h.status("b")).toBe("succeeded");
    expect(h.effects.at(-1)).toEqual({ type: "runStatus", status: "succeeded" });
    h.fire({ type: "setStatus", step: "a", status: "failed" });
    expect(h.state.status).toBe("failed");
    expect(h.state.steps.a?.error).toBe("status set to failed by hand");
  });

  it("marking a rejected step succeeded lifts the rejection", () => {
    const h = new Harness(dag(step("gate", { approval: {} })));
    h.fire({ type: "start" });
    h.fire({ type: "approve", step: "gate", approved: false });
    expect(h.state.status).toBe("rejected");
    h.fire({ type: "setStatus", step: "gate", status: "succeeded" });
    expect(h.state.status).toBe("succeeded");
  });

  it("refuses a run that is not finished, and a step that is not the DAG's", () => {
    const h = new Harness({ ...dag(step("a")), handlerOn: { exit: step("onExit") } });
    h.fire({ type: "start" });
    expect(h.fire({ type: "setStatus", step: "a", status: "succeeded" })).toMatchObject({ ok: false });
    expect(h.status("a")).toBe("not_started");
    h.run("a");
    h.run("onExit");
    expect(h.fire({ type: "setStatus", step: "onExit", status: "failed" })).toEqual({
      kind: "manual",
      ok: false,
      reason: "onExit is not one of the DAG's steps",
    });
  });
});
