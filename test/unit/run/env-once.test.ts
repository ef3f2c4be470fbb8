// Env values with backticks are evaluated once per run: the DAG's by the run's env step, which
// runs first and alone, a step's at its first execution; later leases carry the values as data.
import { describe, expect, it } from "vitest";
import { buildExecSpec, type ExecContext } from "../../../src/dag/exec-spec";
import type { DagDef } from "../../../src/dag/types";
import { createContext, DAG_ENV_STEP, type RunState } from "../../../src/run/engine";
import { dag, exit, Harness, ok, step } from "./harness";

const stamped = (over: Partial<DagDef> = {}): DagDef => ({
  ...dag(step("a"), step("b", { depends: ["a"] })),
  env: [
    ["STAMP", "`date +%s%N`"],
    ["DIR", "/data/${STAMP}"],
    ["PLAIN", "x"],
  ],
  ...over,
});

function ctx(over: Partial<ExecContext> = {}): ExecContext {
  return { runId: "r1", params: { named: [], positional: [] }, outputs: {}, maxOutputBytes: 100, ...over };
}

describe("the run's env step", () => {
  it("runs first and alone when the DAG's env has backticks", () => {
    const h = new Harness(stamped());
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual([DAG_ENV_STEP]);
    h.run(DAG_ENV_STEP, { ...ok, env: { STAMP: "17", DIR: "/data/17" } });
    expect(h.dispatched()).toEqual([DAG_ENV_STEP, "a"]);
    expect(h.state.steps[DAG_ENV_STEP]?.envValues).toEqual({ STAMP: "17", DIR: "/data/17" });
  });

  it("is not there when no env value needs a shell", () => {
    const h = new Harness({ ...stamped(), env: [["PLAIN", "x"]] });
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual(["a"]);
    expect(h.state.steps[DAG_ENV_STEP]).toBeUndefined();
  });

  it("fails the run when a backtick command fails, every step aborted with its error, and no handler runs", () => {
    const onFailure = step("onFailure");
    const h = new Harness({ ...stamped(), handlerOn: { failure: onFailure } });
    h.fire({ type: "start" });
    const error = "env STAMP: command substitution failed (`date +%s%N` exited with 1: date: bad format)";
    h.run(DAG_ENV_STEP, { ...ok, exitCode: null, error });
    expect(h.state.status).toBe("failed");
    expect(h.status("a")).toBe("aborted");
    expect(h.state.steps.a?.error).toBe(`the DAG's env could not be evaluated: ${error}`);
    expect(h.dispatched()).toEqual([DAG_ENV_STEP]);
  });

  it("keeps the DAG's values for a retry of the run, which does not evaluate them again", () => {
    const h = new Harness(stamped());
    h.fire({ type: "start" });
    h.run(DAG_ENV_STEP, { ...ok, env: { STAMP: "17" } });
    h.run("a", exit(1));
    expect(h.state.status).toBe("failed");
    h.effects = [];
    h.fire({ type: "retry", steps: ["a", "b"], all: true });
    expect(h.dispatched()).toEqual(["a"]);
    expect(h.state.steps[DAG_ENV_STEP]?.envValues).toEqual({ STAMP: "17" });
  });

  it("evaluates the env again when a run whose env failed is retried, even for one step", () => {
    const h = new Harness(stamped());
    h.fire({ type: "start" });
    h.run(DAG_ENV_STEP, { ...ok, exitCode: null, error: "env STAMP: command substitution failed" });
    h.effects = [];
    h.fire({ type: "retry", steps: ["b"] });
    expect(h.dispatched()).toEqual([DAG_ENV_STEP]);
    h.run(DAG_ENV_STEP, { ...ok, env: { STAMP: "18" } });
    h.run("a");
    h.run("b");
    expect(h.state.status).toBe("succeeded");
  });

  it("leaves a run stored before the env step without one, so its lease indices stay", () => {
    const d = stamped({ handlerOn: { exit: step("onExit") } });
    const h = new Harness(d);
    const before = JSON.parse(JSON.stringify(h.state)) as RunState;
    delete before.steps[DAG_ENV_STEP];
    const names = createContext(d, 1000, { state: before }).allSteps.map((s) => s.name);
    expect(names).toEqual(["a", "b", "onExit"]);
    expect(h.ctx.allSteps.map((s) => s.name)).toEqual(["a", "b", DAG_ENV_STEP, "onExit"]);
  });

  it("keeps the values a step's first execution sent back for its later attempts", () => {
    const h = new Harness(dag(step("a", { retryPolicy: { limit: 1, intervalSec: 0 } })));
    h.fire({ type: "start" });
    h.run("a", { ...exit(1), env: { TAG: "t1" } });
    h.run("a", ok);
    expect(h.state.steps.a?.envValues).toEqual({ TAG: "t1" });
  });
});

describe("leases and evaluated env values", () => {
  const d = stamped({ secrets: [{ name: "TOKEN", provider: "env", key: "T" }] });

  it("asks the env step for the DAG's backtick values and those using them, never for one using a secret", () => {
    const withSecret: DagDef = { ...d, env: [...d.env, ["AUTH", "`echo ${TOKEN}`"]] };
    const spec = buildExecSpec(withSecret, step(DAG_ENV_STEP), ctx({ reportDagEnv: true }));
    expect(spec.reportEnv).toEqual(["STAMP", "DIR"]);
    expect(spec.shellEnv).toEqual(["STAMP", "DIR", "AUTH"]);
  });

  it("gives every step the values evaluated for the run as they are, not to be evaluated again", () => {
    const spec = buildExecSpec(d, step("a"), ctx({ evaluatedEnv: { STAMP: "17", DIR: "/data/17" } }));
    expect(spec.env).toMatchObject({ STAMP: "17", DIR: "/data/17", PLAIN: "x" });
    expect(spec.shellEnv).toBeUndefined();
    expect(spec.reportEnv).toBeUndefined();
  });

  it("expands a value using an evaluated one on the server", () => {
    const spec = buildExecSpec(d, step("a"), ctx({ evaluatedEnv: { STAMP: "17" } }));
    expect(spec.env.DIR).toBe("/data/17");
  });

  it("asks a step for its own backtick values, and gives them back to its later attempts", () => {
    const s = step("a", { env: [["TAG", "`hostname`-${STAMP}"]] });
    const first = buildExecSpec(d, s, ctx({ evaluatedEnv: { STAMP: "17", DIR: "/data/17" } }));
    expect(first.reportEnv).toEqual(["TAG"]);
    const again = buildExecSpec(
      d,
      s,
      ctx({ evaluatedEnv: { STAMP: "17", DIR: "/data/17" }, stepEnv: { TAG: "h-17" } }),
    );
    expect(again.env.TAG).toBe("h-17");
    expect(again.shellEnv).toBeUndefined();
  });

  it("lets an output of an earlier step win over an evaluated param default of its name", () => {
    const p: DagDef = { ...dag(step("a")), params: [{ name: "DAY", value: "`date +%F`" }] };
    const params = { named: [["DAY", "`date +%F`"]] as Array<[string, string]>, positional: [] };
    const spec = buildExecSpec(p, step("a"), ctx({ params, evaluatedEnv: { DAY: "2026-12-01" } }));
    expect(spec.env.DAY).toBe("2026-12-01");
    const out = buildExecSpec(
      p,
      step("a"),
      ctx({ params, evaluatedEnv: { DAY: "2026-12-01" }, outputs: { DAY: "o" } }),
    );
    expect(out.env.DAY).toBe("o");
  });
});
