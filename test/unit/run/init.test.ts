// handlerOn.init: a step run alone before the DAG's steps; if it fails, none of them runs.
import { describe, expect, it } from "vitest";
import type { DagDef } from "../../../src/dag/types";
import { DAG_PRECONDITIONS_STEP } from "../../../src/run/engine";
import { dag, exit, Harness, ok, step } from "./harness";

const withInit = (d: DagDef, more: DagDef["handlerOn"] = {}): DagDef => ({
  ...d,
  handlerOn: { init: step("onInit"), ...more },
});

describe("handlerOn.init", () => {
  it("runs alone before the steps, which start once it succeeded", () => {
    const h = new Harness(withInit(dag(step("a"), step("b", { depends: ["a"] }))));
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual(["onInit"]);
    h.run("onInit");
    expect(h.status("onInit")).toBe("succeeded");
    expect(h.dispatched()).toEqual(["onInit", "a"]);
    h.run("a");
    h.run("b");
    expect(h.state.status).toBe("succeeded");
  });

  it("runs after the DAG's preconditions hold, and not at all when they do not", () => {
    const h = new Harness({ ...withInit(dag(step("a"))), preconditions: [{ condition: "true" }] });
    h.fire({ type: "start" });
    h.run(DAG_PRECONDITIONS_STEP);
    expect(h.dispatched()).toEqual([DAG_PRECONDITIONS_STEP, "onInit"]);

    const g = new Harness({ ...withInit(dag(step("a"))), preconditions: [{ condition: "false" }] });
    g.fire({ type: "start" });
    g.run(DAG_PRECONDITIONS_STEP, { ...ok, exitCode: null, preconditionUnmet: "no" });
    expect(g.dispatched()).toEqual([DAG_PRECONDITIONS_STEP]);
    expect(g.state.status).toBe("aborted");
  });

  it("fails the run without running a step when it fails, then runs onFailure and onExit", () => {
    const h = new Harness(withInit(dag(step("a"), step("b")), { failure: step("onFailure"), exit: step("onExit") }));
    h.fire({ type: "start" });
    h.run("onInit", exit(3));
    expect(h.status("a")).toBe("aborted");
    expect(h.state.steps.a?.error).toBe("handlerOn.init failed: exit status 3");
    expect(h.status("b")).toBe("aborted");
    h.run("onFailure");
    h.run("onExit");
    expect(h.dispatched()).toEqual(["onInit", "onFailure", "onExit"]);
    expect(h.state.status).toBe("failed");
  });

  it("lets the steps run after a failure its continueOn covers", () => {
    const tolerant = step("onInit", { continueOn: { failure: true, skipped: false, exitCode: [] } });
    const h = new Harness({ ...dag(step("a")), handlerOn: { init: tolerant } });
    h.fire({ type: "start" });
    h.run("onInit", exit(1));
    expect(h.dispatched()).toEqual(["onInit", "a"]);
  });

  it("aborts the run, its steps never started, when stopped while init runs", () => {
    const h = new Harness(withInit(dag(step("a"))));
    h.fire({ type: "start" });
    const token = h.claim("onInit");
    h.fire({ type: "stop" });
    h.fire({ type: "complete", step: "onInit", token, result: { ...ok, exitCode: null, cancelled: true } });
    expect(h.status("a")).toBe("aborted");
    expect(h.dispatched()).toEqual(["onInit"]);
    expect(h.state.status).toBe("aborted");
  });

  it("runs again on a retry of every step, not on a retry of the failed ones", () => {
    const h = new Harness(withInit(dag(step("a"))));
    h.fire({ type: "start" });
    h.run("onInit");
    h.run("a", exit(1));
    expect(h.state.status).toBe("failed");
    h.fire({ type: "retry", steps: ["a"] });
    expect(h.dispatched()).toEqual(["onInit", "a", "a"]);
    expect(h.status("onInit")).toBe("succeeded");
    h.run("a");
    h.fire({ type: "retry", steps: ["a"], all: true });
    expect(h.dispatched()).toEqual(["onInit", "a", "a", "onInit"]);
  });

  it("runs again first on a retry of some steps when it had failed, then starts only those steps", () => {
    const h = new Harness(withInit(dag(step("a"), step("b", { depends: ["a"] }), step("c"))));
    h.fire({ type: "start" });
    h.run("onInit", exit(2));
    expect(h.state.status).toBe("failed");
    h.fire({ type: "retry", steps: ["a", "b"] });
    expect(h.dispatched()).toEqual(["onInit", "onInit"]);
    h.run("onInit");
    expect(h.dispatched()).toEqual(["onInit", "onInit", "a"]);
    h.run("a");
    h.run("b");
    expect(h.status("c")).toBe("aborted");
    expect(h.state.status).toBe("failed");
  });
});
