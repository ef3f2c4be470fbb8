import { describe, expect, it } from "vitest";
import type { DagDef } from "../../../src/dag/types";
import { DAG_PRECONDITIONS_STEP, deriveRunStatus, timerKey } from "../../../src/run/engine";
import { dag, exit, Harness, ok, step } from "./harness";

const timers = (h: Harness, key: string) =>
  h.effects.filter((e) => e.type === "setTimer" && e.key === key).map((e) => (e as { at: number }).at - h.now);
const unmet = (why: string) => ({ ...ok, exitCode: null, preconditionUnmet: why });

describe("preconditions", () => {
  it("skips a step whose precondition is unmet, and skips its dependents unless continueOn.skipped", () => {
    const h = new Harness(
      dag(
        step("a", { preconditions: [{ condition: "test -f /nope" }] }),
        step("b", { depends: ["a"] }),
        step("c", { depends: ["b"] }),
      ),
    );
    h.fire({ type: "start" });
    h.run("a", unmet('"test -f /nope" exited with 1'));
    expect(h.status("a")).toBe("skipped");
    expect(h.state.steps.a?.error).toBe('precondition not met: "test -f /nope" exited with 1');
    expect(h.status("b")).toBe("skipped");
    expect(h.status("c")).toBe("skipped");
    expect(h.state.status).toBe("succeeded");
  });

  it("runs the dependents of a skipped step that has continueOn.skipped", () => {
    const h = new Harness(
      dag(step("a", { continueOn: { failure: false, skipped: true, exitCode: [] } }), step("b", { depends: ["a"] })),
    );
    h.fire({ type: "start" });
    h.run("a", unmet("x"));
    expect(h.dispatched()).toEqual(["a", "b"]);
    h.run("b");
    expect(h.state.status).toBe("succeeded");
  });

  it("checks the DAG's preconditions before any step and aborts the run when one is unmet", () => {
    const d: DagDef = { ...dag(step("a"), step("b", { depends: ["a"] })), preconditions: [{ condition: "false" }] };
    const h = new Harness(d);
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual([DAG_PRECONDITIONS_STEP]);
    h.run(DAG_PRECONDITIONS_STEP, unmet('"false" exited with 1'));
    expect(h.dispatched()).toEqual([DAG_PRECONDITIONS_STEP]);
    expect(h.state.status).toBe("aborted");
    expect(h.status("a")).toBe("skipped");
    expect(h.status("b")).toBe("skipped");
  });

  it("dispatches the first steps once the DAG's preconditions hold; the check is not a node of the run", () => {
    const d: DagDef = { ...dag(step("a")), preconditions: [{ condition: "true" }] };
    const h = new Harness(d);
    h.fire({ type: "start" });
    h.run(DAG_PRECONDITIONS_STEP);
    expect(h.dispatched()).toEqual([DAG_PRECONDITIONS_STEP, "a"]);
    h.run("a", exit(1));
    expect(h.state.status).toBe("failed");
    expect(deriveRunStatus(h.ctx, h.state)).toBe("failed");
  });
});

describe("continueOn", () => {
  it("lets the DAG go on after a failure whose output matched continueOn.output", () => {
    const continueOn = { failure: false, skipped: false, exitCode: [], output: ["re:^WARN"] };
    const h = new Harness(dag(step("a", { continueOn }), step("b", { depends: ["a"] })));
    h.fire({ type: "start" });
    h.run("a", { ...exit(1), outputMatched: true });
    expect(h.status("a")).toBe("failed");
    h.run("b");
    expect(h.state.status).toBe("partially_succeeded");
  });

  it("aborts the dependents when the output did not match", () => {
    const continueOn = { failure: false, skipped: false, exitCode: [], output: ["WARN"] };
    const h = new Harness(dag(step("a", { continueOn }), step("b", { depends: ["a"] })));
    h.fire({ type: "start" });
    h.run("a", { ...exit(1), outputMatched: false });
    expect(h.status("b")).toBe("aborted");
    expect(h.state.status).toBe("failed");
  });

  it("records a covered failure as a success with markSuccess, so the run succeeds", () => {
    const continueOn = { failure: false, skipped: false, exitCode: [3], markSuccess: true };
    const h = new Harness(dag(step("a", { continueOn }), step("b", { depends: ["a"] })));
    h.fire({ type: "start" });
    h.run("a", exit(3));
    expect(h.status("a")).toBe("succeeded");
    h.run("b");
    expect(h.state.status).toBe("succeeded");
  });

  it("does not mark an uncovered failure successful", () => {
    const continueOn = { failure: false, skipped: false, exitCode: [3], markSuccess: true };
    const h = new Harness(dag(step("a", { continueOn })));
    h.fire({ type: "start" });
    h.run("a", exit(4));
    expect(h.status("a")).toBe("failed");
    expect(h.state.status).toBe("failed");
  });
});

describe("retryPolicy", () => {
  it("waits intervalSec times backoff^n between retries, capped by maxIntervalSec", () => {
    const retryPolicy = { limit: 4, intervalSec: 1, backoff: 2, maxIntervalSec: 3 };
    const h = new Harness(dag(step("a", { retryPolicy })));
    h.fire({ type: "start" });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.effects = [];
      h.run("a", exit(1));
      const [wait] = timers(h, timerKey.retry("a"));
      waits.push(wait as number);
      h.now += wait as number;
      h.fire({ type: "timer", key: timerKey.retry("a") });
    }
    expect(waits).toEqual([1000, 2000, 3000, 3000]);
    h.run("a", exit(1));
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.retryCount).toBe(4);
  });

  it("retries only the exit codes it lists", () => {
    const retryPolicy = { limit: 3, intervalSec: 0, exitCode: [75] };
    const h = new Harness(dag(step("a", { retryPolicy })));
    h.fire({ type: "start" });
    h.run("a", exit(75));
    expect(h.status("a")).not.toBe("failed");
    h.run("a", exit(1));
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.retryCount).toBe(1);
  });
});

describe("repeatPolicy", () => {
  it("repeats while the exit code is listed, at intervals with backoff, then ends with the last outcome", () => {
    const repeatPolicy = { mode: "while" as const, exitCode: [1], intervalSec: 2, backoff: 2 };
    const h = new Harness(dag(step("a", { repeatPolicy }), step("b", { depends: ["a"] })));
    h.fire({ type: "start" });
    const waits: number[] = [];
    for (let i = 0; i < 2; i++) {
      h.effects = [];
      h.run("a", exit(1));
      expect(h.status("a")).toBe("running");
      const [wait] = timers(h, timerKey.repeat("a"));
      waits.push(wait as number);
      h.now += wait as number;
      h.fire({ type: "timer", key: timerKey.repeat("a") });
    }
    expect(waits).toEqual([2000, 4000]);
    h.run("a", exit(0));
    expect(h.status("a")).toBe("succeeded");
    expect(h.state.steps.a?.doneCount).toBe(3);
    expect(h.state.steps.a?.attempt).toBe(3);
    expect(h.dispatched()).toContain("b");
  });

  it("repeats until the condition holds, as the runner reports it", () => {
    const repeatPolicy = { mode: "until" as const, condition: { condition: "$X", expected: "done" }, intervalSec: 0 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a", { ...ok, repeatConditionMet: false });
    h.run("a", { ...ok, repeatConditionMet: false });
    expect(h.status("a")).not.toBe("succeeded");
    h.run("a", { ...ok, repeatConditionMet: true });
    expect(h.status("a")).toBe("succeeded");
    expect(h.state.steps.a?.doneCount).toBe(3);
  });

  it("stops at the limit of executions", () => {
    const repeatPolicy = { mode: "while" as const, intervalSec: 0, limit: 2 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a");
    h.run("a");
    expect(h.status("a")).toBe("succeeded");
    expect(h.state.steps.a?.doneCount).toBe(2);
  });

  it("ends the repeat on a failure it does not list, and fails the step", () => {
    const repeatPolicy = { mode: "while" as const, intervalSec: 0 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a");
    h.run("a", exit(2));
    expect(h.status("a")).toBe("failed");
    expect(h.state.status).toBe("failed");
  });

  it("goes on repeating after failing executions until the exit code is one it waits for (repeat: until)", () => {
    const repeatPolicy = { mode: "until" as const, exitCode: [0], intervalSec: 0 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    expect(h.queued("a")).toBe(true);
    h.run("a", exit(3));
    expect(h.queued("a")).toBe(true);
    h.run("a", exit(0));
    expect(h.status("a")).toBe("succeeded");
    expect(h.state.steps.a?.doneCount).toBe(3);
  });

  it("shows a failed execution that will be repeated as running, without its error", () => {
    const repeatPolicy = { mode: "until" as const, exitCode: [0], intervalSec: 30 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    expect(h.status("a")).toBe("running");
    expect(h.state.steps.a?.error).toBeUndefined();
    expect(timers(h, timerKey.repeat("a"))).toEqual([30_000]);
  });

  it("repeats a succeeding execution under until while its exit code is not the one listed", () => {
    const repeatPolicy = { mode: "until" as const, exitCode: [2], intervalSec: 0 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a", exit(0));
    expect(h.queued("a")).toBe(true);
    h.run("a", exit(2));
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.error).toBe("exit status 2");
  });

  it("fails the step when an until repeat reaches its limit on a failing execution", () => {
    const repeatPolicy = { mode: "until" as const, exitCode: [0], intervalSec: 0, limit: 2 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    h.run("a", exit(1));
    expect(h.status("a")).toBe("failed");
    expect(h.state.steps.a?.doneCount).toBe(2);
    expect(h.state.status).toBe("failed");
  });

  it("retries a failing execution within retryPolicy before repeating it", () => {
    const repeatPolicy = { mode: "until" as const, exitCode: [0], intervalSec: 30 };
    const h = new Harness(dag(step("a", { repeatPolicy, retryPolicy: { limit: 1, intervalSec: 10 } })));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    expect(h.status("a")).toBe("retrying");
    h.now += 10_000;
    h.fire({ type: "timer", key: timerKey.retry("a") });
    h.run("a", exit(1));
    expect(h.state.steps.a?.phase.kind).toBe("repeatWait");
    h.now += 30_000;
    h.fire({ type: "timer", key: timerKey.repeat("a") });
    h.run("a", exit(0));
    expect(h.status("a")).toBe("succeeded");
  });

  it("repeats a failing execution while its condition holds", () => {
    const condition = { condition: "$X", expected: "more" };
    const h = new Harness(dag(step("a", { repeatPolicy: { mode: "while", condition, intervalSec: 0 } })));
    h.fire({ type: "start" });
    h.run("a", { ...exit(1), repeatConditionMet: true });
    expect(h.queued("a")).toBe(true);
    h.run("a", { ...exit(1), repeatConditionMet: false });
    expect(h.status("a")).toBe("failed");
  });

  it("does not repeat an execution its runner could not start", () => {
    const repeatPolicy = { mode: "until" as const, exitCode: [0], intervalSec: 0 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a", { ...ok, exitCode: null, error: "working directory /nope does not exist" });
    expect(h.status("a")).toBe("failed");
  });

  it("aborts a step waiting for its next execution when the run is stopped", () => {
    const repeatPolicy = { mode: "while" as const, intervalSec: 60 };
    const h = new Harness(dag(step("a", { repeatPolicy })));
    h.fire({ type: "start" });
    h.run("a");
    h.fire({ type: "stop" });
    expect(h.status("a")).toBe("aborted");
    expect(h.state.status).toBe("aborted");
  });
});

describe("DAG timeoutSec, delaySec, maxActiveSteps", () => {
  it("stops the run at timeoutSec and fails it", () => {
    const h = new Harness({ ...dag(step("a"), step("b", { depends: ["a"] })), timeoutSec: 30 });
    h.fire({ type: "start" });
    expect(timers(h, timerKey.runTimeout)).toEqual([30_000]);
    const token = h.claim("a");
    h.now += 30_000;
    h.fire({ type: "timer", key: timerKey.runTimeout });
    expect(h.status("b")).toBe("aborted");
    expect(h.fire({ type: "heartbeat", step: "a", token })).toEqual({ kind: "heartbeat", cancel: true });
    h.fire({ type: "complete", step: "a", token, result: { ...ok, exitCode: null, cancelled: true } });
    expect(h.status("a")).toBe("aborted");
    expect(h.state.status).toBe("failed");
  });

  it("clears the run's timeout when it finishes in time", () => {
    const h = new Harness({ ...dag(step("a")), timeoutSec: 30 });
    h.fire({ type: "start" });
    h.run("a");
    expect(h.state.status).toBe("succeeded");
    expect(h.effects).toContainEqual({ type: "clearTimer", key: timerKey.runTimeout });
  });

  it("dispatches the first steps delaySec after the start", () => {
    const h = new Harness({ ...dag(step("a")), delaySec: 5 });
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual([]);
    expect(timers(h, timerKey.runDelay)).toEqual([5000]);
    h.now += 5000;
    h.fire({ type: "timer", key: timerKey.runDelay });
    expect(h.dispatched()).toEqual(["a"]);
  });

  it("keeps at most maxActiveSteps steps queued or running", () => {
    const h = new Harness({
      ...dag(step("a"), step("b"), step("c"), step("d", { depends: ["a"] })),
      maxActiveSteps: 2,
    });
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual(["a", "b"]);
    h.run("a");
    // d became ready too, but c was waiting first.
    expect(h.dispatched()).toEqual(["a", "b", "c"]);
    h.run("b");
    expect(h.dispatched()).toEqual(["a", "b", "c", "d"]);
    h.run("c");
    h.run("d");
    expect(h.state.status).toBe("succeeded");
  });
});

describe("handlerOn", () => {
  const withHandlers = (d: DagDef, ...kinds: Array<"success" | "failure" | "cancel" | "exit">): DagDef => {
    const names = { success: "onSuccess", failure: "onFailure", cancel: "onCancel", exit: "onExit" };
    return { ...d, handlerOn: Object.fromEntries(kinds.map((k) => [k, step(names[k])])) };
  };

  it("runs onSuccess then onExit after the steps succeed, the run staying running until they end", () => {
    const h = new Harness(withHandlers(dag(step("a")), "success", "failure", "cancel", "exit"));
    h.fire({ type: "start" });
    h.run("a");
    expect(h.state.status).toBe("running");
    expect(h.state.handlers).toEqual({ status: "succeeded", queue: ["onSuccess", "onExit"] });
    expect(h.dispatched()).toEqual(["a", "onSuccess"]);
    h.run("onSuccess");
    expect(h.dispatched()).toEqual(["a", "onSuccess", "onExit"]);
    h.run("onExit");
    expect(h.state.status).toBe("succeeded");
    expect(h.status("onFailure")).toBe("not_started");
  });

  it("runs onFailure after a failure, and a failed handler fails the run", () => {
    const h = new Harness(withHandlers(dag(step("a")), "success", "failure", "exit"));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    expect(h.dispatched()).toEqual(["a", "onFailure"]);
    h.run("onFailure");
    h.run("onExit");
    expect(h.state.status).toBe("failed");

    const g = new Harness(withHandlers(dag(step("a")), "success", "exit"));
    g.fire({ type: "start" });
    g.run("a");
    g.run("onSuccess", exit(2));
    g.run("onExit");
    expect(g.state.status).toBe("failed");
  });

  it("runs onCancel and onExit after a stop, although the run is stopping", () => {
    const h = new Harness(withHandlers(dag(step("a"), step("b", { depends: ["a"] })), "success", "cancel", "exit"));
    h.fire({ type: "start" });
    const token = h.claim("a");
    h.fire({ type: "stop" });
    expect(h.status("b")).toBe("aborted");
    h.fire({ type: "complete", step: "a", token, result: { ...ok, exitCode: null, cancelled: true } });
    expect(h.state.handlers?.queue).toEqual(["onCancel", "onExit"]);
    h.run("onCancel");
    h.run("onExit");
    expect(h.state.status).toBe("aborted");
    expect(h.status("onSuccess")).toBe("not_started");
  });

  it("runs no handler when the DAG's precondition is unmet", () => {
    const h = new Harness({ ...withHandlers(dag(step("a")), "exit"), preconditions: [{ condition: "false" }] });
    h.fire({ type: "start" });
    h.run(DAG_PRECONDITIONS_STEP, unmet("no"));
    expect(h.state.status).toBe("aborted");
    expect(h.dispatched()).toEqual([DAG_PRECONDITIONS_STEP]);
  });
});

describe("a DAG precondition check that cannot be done", () => {
  it("fails the run, its steps aborted, when the check's runner is lost for good", () => {
    const h = new Harness({ ...dag(step("a")), preconditions: [{ condition: "true" }] });
    h.fire({ type: "start" });
    h.run(DAG_PRECONDITIONS_STEP, { ...ok, exitCode: null, error: "could not start sh" });
    expect(h.status("a")).toBe("aborted");
    expect(h.state.steps.a?.error).toMatch(/preconditions could not be checked: could not start sh/);
    expect(h.state.status).toBe("failed");
  });
});
