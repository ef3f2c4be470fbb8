import { describe, expect, it } from "vitest";
import { type Effect, subRunId, timerKey } from "../../../src/run/engine";
import { dag, Harness, step } from "./harness";

const call = (name: string, over = {}) =>
  step(name, { command: undefined, call: { dag: "child", params: [] }, ...over });
const started = (h: Harness) =>
  h.effects.filter((e): e is Extract<Effect, { type: "startChild" }> => e.type === "startChild");
const done = (
  h: Harness,
  name: string,
  status: "succeeded" | "failed" | "aborted" | "partially_succeeded",
  outputs = {},
) =>
  h.fire({
    type: "childDone",
    step: name,
    childRunId: h.childRunId(name),
    status,
    outputs,
    paramsText: "X=1",
  });

describe("run state machine: call steps", () => {
  it("starts a sub-DAG run instead of dispatching to a runner, and mirrors its success", () => {
    const h = new Harness(dag(call("c", { output: "OUT" }), step("after", { depends: ["c"] })));
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual([]);
    expect(started(h)).toEqual([{ type: "startChild", step: "c", childRunId: subRunId("r1", 0, 1) }]);
    expect(h.status("c")).toBe("running");
    done(h, "c", "succeeded", { RESULT: "42" });
    expect(h.status("c")).toBe("succeeded");
    expect(JSON.parse(h.state.outputs.OUT ?? "")).toEqual({ name: "child", params: "X=1", outputs: { RESULT: "42" } });
    expect(h.dispatched()).toEqual(["after"]);
  });

  it("retries a failed sub-DAG run as a new run under retryPolicy, then fails the step", () => {
    const h = new Harness(dag(call("c", { retryPolicy: { limit: 1, intervalSec: 0 } })));
    h.fire({ type: "start" });
    done(h, "c", "failed");
    expect(h.state.steps.c?.retryCount).toBe(1);
    done(h, "c", "failed");
    expect(started(h).map((e) => e.childRunId)).toEqual([subRunId("r1", 0, 1), subRunId("r1", 0, 2)]);
    expect(h.state.steps.c?.subRuns).toEqual([subRunId("r1", 0, 1), subRunId("r1", 0, 2)]);
    expect(h.status("c")).toBe("failed");
    expect(h.state.steps.c?.error).toBe(`sub-DAG run ${subRunId("r1", 0, 2)} of child failed`);
    expect(h.state.status).toBe("failed");
  });

  it("ignores a report from an earlier attempt's sub-DAG run", () => {
    const h = new Harness(dag(call("c", { retryPolicy: { limit: 1, intervalSec: 0 } })));
    h.fire({ type: "start" });
    done(h, "c", "failed");
    h.fire({
      type: "childDone",
      step: "c",
      childRunId: subRunId("r1", 0, 1),
      status: "succeeded",
      outputs: {},
      paramsText: "",
    });
    expect(h.status("c")).toBe("running");
  });

  it("stops the sub-DAG run when the parent is stopped, and ends aborted once it reports", () => {
    const h = new Harness(dag(call("c"), step("after", { depends: ["c"] })));
    h.fire({ type: "start" });
    h.fire({ type: "stop" });
    expect(h.effects).toContainEqual({ type: "stopChild", childRunId: subRunId("r1", 0, 1) });
    expect(h.status("c")).toBe("running");
    done(h, "c", "aborted");
    expect(h.status("c")).toBe("aborted");
    expect(h.state.status).toBe("aborted");
  });

  it("fails the step and stops its sub-DAG run at the step's timeoutSec", () => {
    const h = new Harness(dag(call("c", { timeoutSec: 5 })));
    h.fire({ type: "start" });
    h.now += 5_000;
    h.fire({ type: "timer", key: timerKey.timeout("c") });
    expect(h.effects).toContainEqual({ type: "stopChild", childRunId: subRunId("r1", 0, 1) });
    expect(h.status("c")).toBe("failed");
    expect(h.state.steps.c?.error).toMatch(/^timed out after 5s/);
  });

  it("makes a parent with a partially succeeded sub-DAG run partially succeeded", () => {
    const h = new Harness(dag(call("c"), step("after", { depends: ["c"] })));
    h.fire({ type: "start" });
    done(h, "c", "partially_succeeded");
    expect(h.status("c")).toBe("partially_succeeded");
    h.run("after");
    expect(h.state.status).toBe("partially_succeeded");
  });

  it("counts running sub-DAG runs against maxActiveSteps", () => {
    const d = { ...dag(call("c1"), call("c2")), maxActiveSteps: 1 };
    const h = new Harness(d);
    h.fire({ type: "start" });
    expect(started(h).map((e) => e.step)).toEqual(["c1"]);
    done(h, "c1", "succeeded");
    expect(started(h).map((e) => e.step)).toEqual(["c1", "c2"]);
  });
});

describe("run state machine: call steps retried in place", () => {
  it("starts a new sub-DAG run when a finished run's call step is retried, keeping the earlier ones listed", () => {
    const h = new Harness(dag(call("c")));
    h.fire({ type: "start" });
    done(h, "c", "failed");
    expect(h.state.status).toBe("failed");
    h.fire({ type: "retry", steps: ["c"] });
    expect(started(h).map((e) => e.childRunId)).toEqual([subRunId("r1", 0, 1), subRunId("r1", 0, 2)]);
    done(h, "c", "succeeded");
    expect(h.state.status).toBe("succeeded");
    expect(h.state.steps.c?.subRuns).toEqual([subRunId("r1", 0, 1), subRunId("r1", 0, 2)]);
  });
});
