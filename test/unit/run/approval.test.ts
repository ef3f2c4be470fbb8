// Human approval in the pure machine: a step marked `approval` waits, holding no runner slot.
import { describe, expect, it } from "vitest";
import type { StepDef } from "../../../src/dag/types";
import { dag, Harness, ok, step } from "./harness";

const gate = (over: Partial<StepDef> = {}) => step("gate", { approval: { prompt: "ship?" }, depends: ["a"], ...over });
const runStatuses = (h: Harness) =>
  h.effects.filter((e) => e.type === "runStatus").map((e) => (e as { status: string }).status);

describe("approval", () => {
  it("a ready approval step waits undispatched, the run shows waiting, approval dispatches it", () => {
    const h = new Harness(dag(step("a"), gate(), step("b", { depends: ["gate"] })));
    h.fire({ type: "start" });
    h.run("a");
    expect(h.status("gate")).toBe("waiting");
    expect(h.state.status).toBe("waiting");
    expect(h.dispatched()).toEqual(["a"]);
    expect(h.effects).toContainEqual({ type: "log", message: "step gate waits for approval: ship?" });
    expect(h.fire({ type: "approve", step: "gate", approved: true })).toEqual({
      kind: "approval",
      ok: true,
      status: "not_started",
    });
    expect(h.state.status).toBe("running");
    expect(h.dispatched()).toEqual(["a", "gate"]);
    h.run("gate");
    h.run("b");
    expect(h.state.status).toBe("succeeded");
    expect(runStatuses(h)).toEqual(["running", "waiting", "running", "succeeded"]);
  });

  it("the run stays running while another step runs, and shows waiting once it is done", () => {
    const h = new Harness(dag(step("a"), gate(), step("other")));
    h.fire({ type: "start" });
    const other = h.claim("other");
    h.run("a");
    expect(h.status("gate")).toBe("waiting");
    expect(h.state.status).toBe("running");
    h.fire({ type: "complete", step: "other", token: other, result: ok });
    expect(h.state.status).toBe("waiting");
  });

  it("a waiting step takes no maxActiveSteps slot", () => {
    const h = new Harness({ ...dag(step("a"), gate({ depends: [] }), step("c")), maxActiveSteps: 1 });
    h.fire({ type: "start" });
    expect(h.status("gate")).toBe("waiting");
    expect(h.dispatched()).toEqual(["a"]);
    h.run("a");
    expect(h.dispatched()).toEqual(["a", "c"]);
  });

  it("an approval step without a command succeeds on approval and lets its dependents run", () => {
    const h = new Harness(dag(step("a"), gate({ command: undefined }), step("b", { depends: ["gate"] })));
    h.fire({ type: "start" });
    h.run("a");
    h.fire({ type: "approve", step: "gate", approved: true, reason: "looks good" });
    expect(h.status("gate")).toBe("succeeded");
    expect(h.effects).toContainEqual({ type: "log", message: "step gate approved: looks good" });
    expect(h.dispatched()).toEqual(["a", "b"]);
  });

  it("rejection stops the run: dependents abort, a running step is cancelled, the run ends rejected", () => {
    const h = new Harness(dag(step("a"), gate(), step("b", { depends: ["gate"] }), step("slow")));
    h.fire({ type: "start" });
    const slow = h.claim("slow");
    h.run("a");
    expect(h.fire({ type: "approve", step: "gate", approved: false, reason: "not today" })).toEqual({
      kind: "approval",
      ok: true,
      status: "rejected",
    });
    expect(h.status("gate")).toBe("rejected");
    expect(h.state.steps.gate?.error).toBe("rejected: not today");
    expect(h.status("b")).toBe("aborted");
    expect(h.lease("slow")?.cancelRequested).toBe(true);
    h.fire({ type: "complete", step: "slow", token: slow, result: { ...ok, exitCode: null, cancelled: true } });
    expect(h.state.status).toBe("rejected");
  });

  it("a rejected run runs the failure and exit handlers", () => {
    const h = new Harness({
      ...dag(step("a"), gate()),
      handlerOn: { failure: step("onFailure"), exit: step("onExit") },
    });
    h.fire({ type: "start" });
    h.run("a");
    h.fire({ type: "approve", step: "gate", approved: false });
    expect(h.dispatched()).toContain("onFailure");
    h.run("onFailure");
    h.run("onExit");
    expect(h.state.status).toBe("rejected");
  });

  it("refuses a decision on a step that is not waiting, and changes nothing", () => {
    const h = new Harness(dag(step("a"), gate()));
    h.fire({ type: "start" });
    const before = h.state;
    expect(h.fire({ type: "approve", step: "gate", approved: true })).toEqual({
      kind: "approval",
      ok: false,
      status: "not_started",
    });
    expect(h.state.steps).toEqual(before.steps);
    expect(h.fire({ type: "approve", step: "a", approved: false })).toMatchObject({ ok: false });
    expect(h.state.rejected).toBeUndefined();
  });

  it("stopping a waiting run aborts the waiting step and ends the run aborted", () => {
    const h = new Harness(dag(step("a"), gate()));
    h.fire({ type: "start" });
    h.run("a");
    h.fire({ type: "stop" });
    expect(h.status("gate")).toBe("aborted");
    expect(h.state.status).toBe("aborted");
  });
});
