import { describe, expect, it } from "vitest";
import { CONFIRM_WITHIN_MS, timerKey } from "../../../src/run/engine";
import { MAX_UNCONFIRMED_LEASES } from "../../../src/run/engine/dispatch";
import { dag, Harness, ok, step } from "./harness";

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const wide = (n: number, over: Parameters<typeof step>[1] = {}) => names("s", n).map((name) => step(name, over));
const BOUND = MAX_UNCONFIRMED_LEASES;

describe("the bound on unconfirmed leases of a run", () => {
  it("dispatches at most the bound of one selector's ready steps and holds the rest as not started", () => {
    const h = new Harness(dag(...wide(BOUND + 10)));
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual(names("s", BOUND));
    expect(h.status(`s${BOUND}`)).toBe("not_started");
    expect(h.state.steps[`s${BOUND + 9}`]?.phase.kind).toBe("held");
  });

  it("hands out no more while the leases out are claimed but not confirmed", () => {
    const h = new Harness(dag(...wide(BOUND + 10)));
    h.fire({ type: "start" });
    for (const name of names("s", BOUND)) h.claim(name);
    expect(h.dispatched()).toHaveLength(BOUND);
  });

  it("dispatches the first held step in the DAG's order when a heartbeat confirms a lease", () => {
    const h = new Harness(dag(...wide(BOUND + 10)));
    h.fire({ type: "start" });
    const token = h.claim("s3");
    h.fire({ type: "heartbeat", step: "s3", token });
    expect(h.dispatched().slice(BOUND)).toEqual([`s${BOUND}`]);
  });

  it("dispatches the next held step when a completion confirms a lease", () => {
    const h = new Harness(dag(...wide(BOUND + 10)));
    h.fire({ type: "start" });
    h.run("s0", ok);
    h.run("s1", ok);
    expect(h.dispatched().slice(BOUND)).toEqual([`s${BOUND}`, `s${BOUND + 1}`]);
  });

  it("dispatches a step again when its unconfirmed lease expires, and no other", () => {
    const h = new Harness(dag(...wide(BOUND + 10)));
    h.fire({ type: "start" });
    h.claim("s0");
    h.now += CONFIRM_WITHIN_MS;
    h.fire({ type: "timer", key: timerKey.lease("s0") });
    expect(h.dispatched().slice(BOUND)).toEqual(["s0"]);
    expect(h.status("s0")).toBe("not_started");
  });

  it("does not hold back steps of another selector behind tasks that no runner takes", () => {
    const gpu = wide(BOUND + 5, { workerSelector: { gpu: "true" } });
    const h = new Harness(dag(...gpu, step("cpu")));
    h.fire({ type: "start" });
    expect(h.dispatched()).toContain("cpu");
    expect(h.dispatched()).toHaveLength(BOUND + 1);
  });

  it("runs every step of a run wider than the bound to the end", () => {
    const n = BOUND * 3 + 7;
    const h = new Harness(dag(...wide(n)));
    h.fire({ type: "start" });
    for (let i = 0; i < n; i++) h.run(`s${i}`, ok);
    expect(h.state.status).toBe("succeeded");
    expect(h.dispatched()).toEqual(names("s", n));
  });
});
