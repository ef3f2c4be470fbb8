import { describe, expect, it } from "vitest";
import type { DagDef, StepDef } from "../../../src/dag/types";
import { MAX_OFFER_DEPTH } from "../../../src/limits";
import { checkSuccessor, offerChain } from "../../../src/run/chain-successor";
import { dag, exit, Harness, ok, step } from "./harness";

/** a -> b, with `a` claimed (leased) and `b` waiting: what the offer is decided on. */
function chain(a: Partial<StepDef> = {}, b: Partial<StepDef> = {}, more: StepDef[] = [], over: Partial<DagDef> = {}) {
  const d = { ...dag(step("a", a), step("b", { depends: ["a"], ...b }), ...more), ...over };
  const h = new Harness(d);
  h.fire({ type: "start" });
  h.claim("a");
  return h;
}

const offer = (h: Harness, from = "a") => checkSuccessor(h.ctx, h.state, from);

describe("the chain successor a runner may start early", () => {
  it("is offered when its one dependency is the leased step and nothing can change its spec", () => {
    expect(offer(chain())).toEqual({ successor: "b" });
  });

  it("is offered in a chain-type DAG, where each step follows the one before", () => {
    const h = chain({}, {}, [step("c", { depends: ["b"] })], { type: "chain" });
    expect(offer(h)).toEqual({ successor: "b" });
  });

  it.each<[string, Partial<StepDef>, Partial<StepDef>, StepDef[], Partial<DagDef>]>([
    ["the step captures an output", { output: "OUT" }, {}, [], {}],
    ["the step repeats", { repeatPolicy: { mode: "while", intervalSec: 0, limit: 2 } }, {}, [], {}],
    ["several dependents", {}, {}, [step("c", { depends: ["a"] })], {}],
    ["the successor has other dependencies", {}, { depends: ["a", "z"] }, [step("z")], {}],
    ["the successor runs no command", {}, { command: undefined }, [], {}],
    ["the successor calls a sub-DAG", {}, { command: undefined, call: { dag: "child", params: [] } }, [], {}],
    ["the successor fans out", {}, { fanout: { items: ["x", "y"], maxConcurrent: 2 } }, [], {}],
    ["the successor waits for approval", {}, { approval: {} }, [], {}],
    ["the successor has preconditions", {}, { preconditions: [{ condition: "test -f /x" }] }, [], {}],
    ["the successor reads a step's result", { id: "first" }, { command: "cat ${first.stdout}" }, [], {}],
    ["the successor reads a step's result", {}, { env: [["CODE", "${first.exitCode}"]] }, [], {}],
    ["the successor reads a step's result", {}, {}, [], { env: [["X", "${JSON.field}"]] }],
    ["the successor reads a step's result", {}, { dir: "/tmp/${OUT[0]}" }, [], {}],
    ["the successor needs other runner labels", {}, { workerSelector: { gpu: "true" } }, [], {}],
    ["the DAG limits its active steps", {}, {}, [], { maxActiveSteps: 4 }],
    ["step side may set an output first", {}, {}, [step("side", { output: "SIDE" })], {}],
  ])("is not offered when %s", (why, a, b, more, over) => {
    expect(offer(chain(a, b, more, over))).toEqual({ none: why });
  });

  it("is offered when the successor's labels are a part of those the leased step needed", () => {
    const h = chain({ workerSelector: { gpu: "true", zone: "a" } }, { workerSelector: { gpu: "true" } });
    expect(offer(h)).toEqual({ successor: "b" });
  });

  it("is offered when the only step still to set an output runs after the successor", () => {
    const h = chain({}, {}, [step("later", { depends: ["b"], output: "LATER" })]);
    expect(offer(h)).toEqual({ successor: "b" });
  });

  it("is offered when the successor sets an output of its own", () => {
    expect(offer(chain({}, { output: "MINE" }))).toEqual({ successor: "b" });
  });

  it("is offered when the steps that set outputs are done", () => {
    const h = new Harness(dag(step("side", { output: "SIDE" }), step("a"), step("b", { depends: ["a"] })));
    h.fire({ type: "start" });
    h.run("side");
    h.claim("a");
    expect(offer(h)).toEqual({ successor: "b" });
  });

  it("is not offered once the run was stopped", () => {
    const h = chain();
    h.fire({ type: "stop" });
    expect(offer(h)).toEqual({ none: "the run is not running its steps" });
  });

  it("is not offered for a successor that was made ready before", () => {
    const h = chain();
    h.state.steps.b = { ...(h.state.steps.b as NonNullable<(typeof h.state.steps)["b"]>), readyAt: 5 };
    expect(offer(h)).toEqual({ none: "the successor is not waiting" });
  });

  it("is not offered by a handler, which has no dependents", () => {
    const d = { ...dag(step("a")), handlerOn: { exit: step("onExit") } };
    const h = new Harness(d);
    h.fire({ type: "start" });
    expect(offer(h, "onExit")).toEqual({ none: "no dependent" });
  });
});

describe("the dispatch number a successor was offered under", () => {
  const seq = (h: Harness, name: string) => h.state.steps[name]?.dispatchSeq;

  it("is the one its dispatch takes when its predecessor succeeds", () => {
    const h = chain();
    const offered = (seq(h, "b") ?? 0) + 1;
    const token = h.state.steps.a?.phase.kind === "leased" ? h.state.steps.a.phase.lease.token : "";
    h.fire({ type: "complete", step: "a", token, result: ok });
    expect(seq(h, "b")).toBe(offered);
  });

  it("is skipped when the predecessor's lease ends without dispatching the successor", () => {
    const h = chain();
    const offered = (seq(h, "b") ?? 0) + 1;
    h.now += 10_000;
    h.fire({ type: "timer", key: "lease:a" });
    // The lease was taken back unconfirmed: a is dispatched again, b must never get that number.
    h.claim("a");
    const token = h.state.steps.a?.phase.kind === "leased" ? h.state.steps.a.phase.lease.token : "";
    h.fire({ type: "complete", step: "a", token, result: ok });
    expect(seq(h, "b")).toBeGreaterThan(offered);
  });

  it("is kept, with the lease id of the successor's accepted attempt, when the predecessor's accepted completion comes again", () => {
    const h = chain();
    const token = h.state.steps.a?.phase.kind === "leased" ? h.state.steps.a.phase.lease.token : "";
    h.fire({ type: "complete", step: "a", token, result: ok });
    h.claim("b");
    const bToken = h.state.steps.b?.phase.kind === "leased" ? h.state.steps.b.phase.lease.token : "";
    h.fire({ type: "complete", step: "b", token: bToken, result: ok });
    const accepted = seq(h, "b");
    // The runner never heard the answer to a's completion and sends it again.
    h.fire({ type: "complete", step: "a", token, result: ok });
    expect(h.status("b")).toBe("succeeded");
    expect(seq(h, "b")).toBe(accepted);
  });

  it("is skipped when the predecessor fails", () => {
    const h = chain();
    const offered = (seq(h, "b") ?? 0) + 1;
    const token = h.state.steps.a?.phase.kind === "leased" ? h.state.steps.a.phase.lease.token : "";
    h.fire({ type: "complete", step: "a", token, result: exit(1) });
    expect(h.status("b")).toBe("aborted");
    // A retry of the run dispatches it with the number after this one.
    expect(seq(h, "b")).toBe(offered);
  });
});

/** A chain-type DAG of `n` plain steps s0, s1, ... with `over` applied to some of them. */
function longChain(n: number, over: Record<string, Partial<StepDef>> = {}) {
  const steps = Array.from({ length: n }, (_, i) =>
    step(`s${i}`, { depends: i ? [`s${i - 1}`] : [], ...over[`s${i}`] }),
  );
  const h = new Harness({ ...dag(...steps), type: "chain" });
  h.fire({ type: "start" });
  h.claim("s0");
  return h;
}

describe("the chain a lease offers ahead of its step", () => {
  it("holds every following step of a plain chain, in order", () => {
    const h = longChain(5);
    expect(offerChain(h.ctx, h.state, "s0", MAX_OFFER_DEPTH)).toEqual(["s1", "s2", "s3", "s4"]);
  });

  it("stops at the depth limit", () => {
    const h = longChain(MAX_OFFER_DEPTH + 5);
    const chain = offerChain(h.ctx, h.state, "s0", MAX_OFFER_DEPTH);
    expect(chain).toHaveLength(MAX_OFFER_DEPTH);
    expect(chain.at(-1)).toBe(`s${MAX_OFFER_DEPTH}`);
  });

  it("ends with a step that captures an output, which offers nothing after it", () => {
    const h = longChain(6, { s2: { output: "OUT" } });
    expect(offerChain(h.ctx, h.state, "s0", MAX_OFFER_DEPTH)).toEqual(["s1", "s2"]);
  });

  it("ends before a step that reads a step's result", () => {
    const h = longChain(6, { s3: { command: "echo ${s1.stdout}" } });
    expect(offerChain(h.ctx, h.state, "s0", MAX_OFFER_DEPTH)).toEqual(["s1", "s2"]);
  });

  it("ends before a step with preconditions", () => {
    const h = longChain(6, { s2: { preconditions: [{ condition: "test -f /x" }] } });
    expect(offerChain(h.ctx, h.state, "s0", MAX_OFFER_DEPTH)).toEqual(["s1"]);
  });

  it("ends before a step that needs other runner labels", () => {
    const h = longChain(6, { s3: { workerSelector: { gpu: "true" } } });
    expect(offerChain(h.ctx, h.state, "s0", MAX_OFFER_DEPTH)).toEqual(["s1", "s2"]);
  });
});

describe("the dispatch numbers a chain was offered under", () => {
  const seqs = (h: Harness, from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => h.state.steps[`s${from + i}`]?.dispatchSeq ?? -1);

  it("are each skipped, down the chain, when the first step's lease ends without dispatching its successor", () => {
    const h = longChain(MAX_OFFER_DEPTH + 3);
    const before = seqs(h, 1, MAX_OFFER_DEPTH + 3);
    const token = h.state.steps.s0?.phase.kind === "leased" ? h.state.steps.s0.phase.lease.token : "";
    h.fire({ type: "complete", step: "s0", token, result: exit(1) });
    const after = seqs(h, 1, MAX_OFFER_DEPTH + 3);
    // Every step a lease of s0 could offer skips its number; the ones past the depth keep theirs.
    expect(after.slice(0, MAX_OFFER_DEPTH)).toEqual(before.slice(0, MAX_OFFER_DEPTH).map((n) => n + 1));
    expect(after.slice(MAX_OFFER_DEPTH)).toEqual(before.slice(MAX_OFFER_DEPTH));
  });

  it("are kept when the first step's completion dispatches its successor", () => {
    const h = longChain(6);
    const before = seqs(h, 2, 6);
    const token = h.state.steps.s0?.phase.kind === "leased" ? h.state.steps.s0.phase.lease.token : "";
    h.fire({ type: "complete", step: "s0", token, result: ok });
    expect(h.queued("s1")).toBe(true);
    expect(seqs(h, 2, 6)).toEqual(before);
  });
});
