import { describe, expect, it } from "vitest";
import { type StepState, transition } from "../../../src/run/engine";
import { dag, Harness, step } from "./harness";

const plain = (x: unknown) => JSON.parse(JSON.stringify(x));

describe("the step table across events", () => {
  it("leaves every earlier state of a run reading as it was, however many events followed", () => {
    const h = new Harness(dag(step("a"), step("b", { depends: ["a"] }), step("c", { depends: ["b"] })));
    const states = [h.state];
    const copies = [plain(h.state)];
    h.fire({ type: "start" });
    for (const name of ["a", "b", "c"]) {
      states.push(h.state);
      copies.push(plain(h.state));
      h.run(name);
    }
    expect(h.state.status).toBe("succeeded");
    for (const [i, s] of states.entries()) expect(plain(s)).toEqual(copies[i]);
  });

  it("runs an event on an earlier state as it would have run then, without changing the later one", () => {
    const h = new Harness(dag(step("a"), step("b")));
    h.fire({ type: "start" });
    const earlier = h.state;
    h.run("a");
    const later = plain(h.state);
    const branch = transition(h.ctx, earlier, { type: "stop" }, h.now);
    expect(branch.state.steps.a?.status).toBe("aborted");
    expect(branch.state.status).toBe("aborted");
    expect(plain(h.state)).toEqual(later);
    expect(h.state.steps.a?.status).toBe("succeeded");
  });

  it("refuses writes to a state the engine has moved on from", () => {
    const h = new Harness(dag(step("a")));
    const earlier = h.state;
    h.fire({ type: "start" });
    expect(() => {
      earlier.steps.a = h.state.steps.a as never;
    }).toThrow(/read-only/);
  });

  it("leaves the given state as it was when an event fails half-way", () => {
    const h = new Harness(dag(step("a"), step("b")));
    h.fire({ type: "start" });
    const given = h.state;
    const copy = plain(given);
    // A stop that finds a step the DAG does not have throws after aborting the steps before it.
    given.steps.ghost = { ...(given.steps.a as StepState), name: "ghost" };
    expect(() => transition(h.ctx, given, { type: "stop" }, h.now)).toThrow(/unknown step ghost/);
    delete given.steps.ghost;
    expect(plain(given)).toEqual(copy);
    expect(transition(h.ctx, given, { type: "stop" }, h.now).state.status).toBe("aborted");
  });
});
