import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import type { DagDef } from "../../../src/dag/types";
import {
  createContext,
  DAG_ENV_STEP,
  MAX_FANOUT_ITEMS,
  parseItems,
  type RunState,
  transition,
} from "../../../src/run/engine";
import { exit, Harness, ok, TTL } from "./harness";

/** gen outputs LIST; fan runs once per item of it; after depends on fan. */
function fanDag(fanExtra = ""): DagDef {
  const r = parseDag(
    `type: graph
steps:
  - name: gen
    command: ./gen.sh
    output: LIST
  - name: fan
    depends: gen
    command: echo $ITEM
    parallel:
      items: \${LIST}
      maxConcurrent: 2
${fanExtra}  - name: after
    command: echo done
    depends: fan
`,
    { name: "d" },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.dag;
}

const outputs = (value: string) => ({ ...ok, output: value });
const log = (h: Harness) => h.effects.flatMap((e) => (e.type === "log" ? [e.message] : []));

/** Starts the run and lets gen output `value`. */
function started(value: string, d = fanDag()): Harness {
  const h = new Harness(d);
  h.fire({ type: "start" });
  h.run("gen", outputs(value));
  return h;
}

describe("parallel items from a variable (fan-out steps)", () => {
  it("expands into one instance per item when ready, ITEM in env, maxConcurrent honoured, dependents after all", () => {
    const h = started('["a", "b", {"k": 1}]');
    expect(h.status("fan")).toBe("running");
    expect(h.dispatched()).toEqual(["gen", "fan[1]", "fan[2]"]);
    expect(h.state.fanoutInstances).toEqual(["fan[1]", "fan[2]", "fan[3]"]);
    expect(h.state.steps["fan[3]"]?.item).toBe('{"k":1}');
    // Instances follow every other step of the context, and carry ITEM first in their env.
    expect(h.ctx.allSteps.map((s) => s.name)).toEqual(["gen", "fan", "after", "fan[1]", "fan[2]", "fan[3]"]);
    expect(h.ctx.stepsByName.get("fan[2]")?.env).toEqual([["ITEM", "b"]]);
    h.run("fan[1]");
    expect(h.dispatched().at(-1)).toBe("fan[3]");
    h.run("fan[2]");
    expect(h.status("fan")).toBe("running");
    expect(h.status("after")).toBe("not_started");
    h.run("fan[3]");
    expect(h.status("fan")).toBe("succeeded");
    expect(h.dispatched().at(-1)).toBe("after");
    h.run("after");
    expect(h.state.status).toBe("succeeded");
    expect(log(h)).toContain("step fan: parallel items ${LIST} hold 3 item(s); running fan[1] to fan[3]");
  });

  it("takes a list separated by blanks and newlines when the value is not JSON, and reads params", () => {
    const h = started("x y\nz");
    expect(h.state.fanoutInstances).toEqual(["fan[1]", "fan[2]", "fan[3]"]);
    expect(["fan[1]", "fan[2]", "fan[3]"].map((n) => h.state.steps[n]?.item)).toEqual(["x", "y", "z"]);
    // Without an output of that name, a named param is the variable.
    const p = parseDag(
      "params: FILES=one two\nsteps:\n  - name: fan\n    command: echo $ITEM\n    parallel: ${FILES}\n",
      { name: "p" },
    );
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    const hp = new Harness(p.dag);
    hp.ctx = createContext(p.dag, TTL, { params: { named: [["FILES", "one two"]], positional: [] } });
    hp.fire({ type: "start" });
    expect(hp.dispatched()).toEqual(["fan[1]", "fan[2]"]);
  });

  it("reads a JSON path into an output", () => {
    const r = parseDag(
      "type: graph\nsteps:\n  - name: gen\n    command: x\n    output: OUT\n  - name: fan\n    depends: gen\n    command: echo $ITEM\n    parallel: ${OUT.files}\n",
      { name: "d" },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const h = new Harness(r.dag);
    h.fire({ type: "start" });
    h.run("gen", outputs('{"files": ["f1", "f2"]}'));
    expect(["fan[1]", "fan[2]"].map((n) => h.state.steps[n]?.item)).toEqual(["f1", "f2"]);
  });

  it.each([
    // [instance exit codes, continueOn, fan-out status, after, run]
    [[0, 1, 0], "", "failed", "aborted", "failed"],
    [[0, 1, 0], "    continueOn:\n      failure: true\n", "partially_succeeded", "succeeded", "partially_succeeded"],
    [[3, 0, 0], "    continueOn:\n      exitCode: [3]\n", "partially_succeeded", "succeeded", "partially_succeeded"],
    [[3, 4, 0], "    continueOn:\n      exitCode: [3]\n", "failed", "aborted", "failed"],
    [[1, 1, 1], "    continueOn:\n      failure: true\n", "failed", "succeeded", "partially_succeeded"],
    [
      [1, 0, 0],
      "    continueOn:\n      failure: true\n      markSuccess: true\n",
      "succeeded",
      "succeeded",
      "succeeded",
    ],
  ])(
    "instances exiting %j under continueOn %j: the fan-out step is %s, its dependent %s, the run %s, as with listed items",
    (codes, continueOn, fanStatus, afterStatus, runStatus) => {
      const h = started('["a", "b", "c"]', fanDag(continueOn));
      h.run("fan[1]", exit(codes[0] as number));
      h.run("fan[2]", exit(codes[1] as number));
      expect(h.status("fan")).toBe("running");
      h.run("fan[3]", exit(codes[2] as number));
      expect(h.status("fan")).toBe(fanStatus);
      if (h.queued("after")) h.run("after");
      expect(h.status("after")).toBe(afterStatus);
      expect(h.state.status).toBe(runStatus);

      // The same instances listed in the DAG file end the run the same way.
      const listed = parseDag(
        `type: graph\nsteps:\n  - name: gen\n    command: x\n  - name: fan\n    depends: gen\n    command: echo $ITEM\n    parallel: [a, b, c]\n${continueOn}  - name: after\n    command: echo\n    depends: fan\n`,
        { name: "d" },
      );
      if (!listed.ok) throw new Error(JSON.stringify(listed.errors));
      const s = new Harness(listed.dag);
      s.fire({ type: "start" });
      s.run("gen");
      codes.forEach((c, i) => {
        s.run(`fan[${i + 1}]`, exit(c));
      });
      if (s.queued("after")) s.run("after");
      expect([s.status("after"), s.state.status]).toEqual([afterStatus, runStatus]);
    },
  );

  it("names the instance that failed it in the fan-out step's error", () => {
    const h = started('["a", "b"]');
    h.run("fan[1]");
    h.run("fan[2]", exit(2));
    expect(h.state.steps.fan?.error).toBe("instance fan[2] failed (exit status 2)");
    expect(h.state.steps.after?.error).toBe("upstream step fan failed");
  });

  it("an empty list: the step succeeds with no instances and says so in the run log", () => {
    const h = started("[]");
    expect(h.status("fan")).toBe("succeeded");
    expect(h.state.steps.fan?.instances).toBe(0);
    expect(h.state.fanoutInstances).toBeUndefined();
    expect(log(h)).toContain("step fan: parallel items ${LIST} is an empty list; no instance to run");
    expect(h.dispatched().at(-1)).toBe("after");
  });

  it.each([
    ['{"a": 1}', "parallel items ${LIST}: the value is a JSON object, not a list"],
    ["[1, 2", expect.stringMatching(/^parallel items \$\{LIST\}: the value starts with "\[" but is not a JSON array/)],
    [
      JSON.stringify(Array.from({ length: MAX_FANOUT_ITEMS + 1 }, (_, i) => i)),
      "parallel items ${LIST}: 1001 items, more than the 1000 a parallel step may have",
    ],
  ])(
    "a value that is no list, or too long a one (case %#), fails the step with an error naming the variable",
    (value, error) => {
      const h = started(value);
      expect(h.status("fan")).toBe("failed");
      expect(h.state.steps.fan?.error).toEqual(error);
      expect(h.state.fanoutInstances).toBeUndefined();
      expect(h.status("after")).toBe("aborted");
      expect(h.state.status).toBe("failed");
    },
  );

  it("a variable nothing defines fails the step, naming it", () => {
    const h = new Harness(fanDag());
    h.fire({ type: "start" });
    // gen succeeds without output: LIST is never set.
    h.run("gen");
    expect(h.state.steps.fan?.error).toBe(
      "parallel items ${LIST}: LIST is not a param, env entry, run variable or output of this run",
    );
  });

  it("a DAG env value with backticks is the items once the run evaluated it", () => {
    const r = parseDag('env:\n  - L: "`ls`"\nsteps:\n  - name: fan\n    command: echo\n    parallel: ${L}\n', {
      name: "d",
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const h = new Harness(r.dag);
    h.fire({ type: "start" });
    h.run(DAG_ENV_STEP, { ...ok, env: { L: "x y" } });
    expect(h.state.steps.fan?.instances).toBe(2);
  });

  it("a DAG env value with backticks that no runner sent back (an older runner) cannot be the items", () => {
    const r = parseDag('env:\n  - L: "`ls`"\nsteps:\n  - name: fan\n    command: echo\n    parallel: ${L}\n', {
      name: "d",
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const h = new Harness(r.dag);
    h.fire({ type: "start" });
    h.run(DAG_ENV_STEP);
    expect(h.state.steps.fan?.error).toBe(
      "parallel items ${L}: L is computed by the runner's shell (backticks); parallel items cannot use it",
    );
  });

  it("instances survive a reload: the context is rebuilt from the stored state with the same indices", () => {
    const d = { ...fanDag(), handlerOn: { exit: { ...fanDag().steps[2], name: "onExit", depends: [] } } } as DagDef;
    const h = started('["a", "b", "c"]', d);
    const indexBefore = h.ctx.allSteps.findIndex((s) => s.name === "fan[2]");
    expect(indexBefore).toBe(5); // gen, fan, after, onExit, then the instances
    // What the RunObject stores and reads back: the state as JSON, the context from it.
    const stored = JSON.parse(JSON.stringify(h.state)) as RunState;
    const ctx = createContext(d, TTL, { state: stored });
    expect(ctx.allSteps.map((s) => s.name)).toEqual(h.ctx.allSteps.map((s) => s.name));
    expect(ctx.stepsByName.get("fan[3]")?.env).toEqual([["ITEM", "c"]]);
    // The run goes on with the reloaded context.
    const reloaded = new Harness(d);
    reloaded.ctx = ctx;
    reloaded.state = stored;
    for (const n of ["fan[1]", "fan[2]"]) reloaded.run(n);
    expect(reloaded.dispatched()).toEqual(["fan[3]"]);
    reloaded.run("fan[3]");
    expect(reloaded.status("fan")).toBe("succeeded");
    reloaded.run("after");
    reloaded.run("onExit");
    expect(reloaded.state.status).toBe("succeeded");
  });

  it("a retry expands the step again from the variable's new value, never renumbering instances", () => {
    const h = started('["a", "b"]');
    h.run("fan[1]");
    h.run("fan[2]", exit(1));
    expect(h.state.status).toBe("failed");
    const before = h.ctx.allSteps.map((s) => s.name);
    h.fire({ type: "retry", steps: ["gen", "fan", "after"], all: true });
    expect(h.status("fan")).toBe("not_started");
    h.run("gen", outputs('["x", "y", "z"]'));
    expect(h.ctx.allSteps.map((s) => s.name)).toEqual([...before, "fan[3]"]);
    expect(["fan[1]", "fan[2]", "fan[3]"].map((n) => h.state.steps[n]?.item)).toEqual(["x", "y", "z"]);
    for (const n of ["fan[1]", "fan[2]", "fan[3]"]) h.run(n);
    // Attempt numbers go on from the first run-through, so its logs stay readable.
    expect(h.state.steps["fan[2]"]?.attempt).toBe(2);
    h.run("after");
    expect(h.state.status).toBe("succeeded");
  });

  it("a retry that finds fewer items leaves the extra instances of the earlier expansion out", () => {
    const h = started('["a", "b", "c"]');
    for (const n of ["fan[1]", "fan[2]", "fan[3]"]) h.run(n, exit(1));
    h.fire({ type: "retry", steps: ["gen", "fan", "after"], all: true });
    h.run("gen", outputs("only"));
    expect(h.state.steps.fan?.instances).toBe(1);
    h.run("fan[1]");
    expect(h.status("fan")).toBe("succeeded");
    h.run("after");
    expect(h.state.status).toBe("succeeded");
  });

  it("a retry of the fan-out step alone runs every instance again, the succeeded ones too", () => {
    const h = started('["a", "b"]');
    h.run("fan[1]");
    h.run("fan[2]", exit(1));
    h.fire({ type: "retry", steps: ["fan", "after"] });
    expect(h.status("gen")).toBe("succeeded");
    expect(h.status("fan")).toBe("running");
    expect(h.status("fan[1]")).toBe("not_started");
    for (const n of ["fan[1]", "fan[2]"]) h.run(n);
    h.run("after");
    expect(h.state.status).toBe("succeeded");
  });

  it("every instance of a fan-out step with approval waits for its own approval", () => {
    const h = started("a b", fanDag("    approval: true\n"));
    expect([h.status("fan[1]"), h.status("fan[2]")]).toEqual(["waiting", "waiting"]);
    // Nothing else is under way: the run itself shows waiting.
    expect(h.state.status).toBe("waiting");
    h.fire({ type: "approve", step: "fan[2]", approved: true });
    expect(h.state.status).toBe("running");
    h.run("fan[2]");
    expect(h.status("fan")).toBe("running");
    h.fire({ type: "approve", step: "fan[1]", approved: true });
    h.run("fan[1]");
    expect(h.status("fan")).toBe("succeeded");
  });

  it("a stop aborts the waiting instances; the fan-out step ends once the running ones have", () => {
    const h = started('["a", "b", "c"]');
    const token = h.claim("fan[1]");
    h.fire({ type: "stop" });
    expect(h.status("fan[3]")).toBe("aborted");
    expect(h.status("fan")).toBe("running");
    h.fire({ type: "complete", step: "fan[1]", token, result: { ...ok, exitCode: null, cancelled: true } });
    expect(h.status("fan")).toBe("aborted");
    expect(h.state.status).toBe("aborted");
  });

  it("the machine is pure: an expansion gives a new context and leaves the one it was given alone", () => {
    const d = fanDag();
    const h = new Harness(d);
    h.fire({ type: "start" });
    const ctx = h.ctx;
    const token = h.claim("gen");
    const t = transition(ctx, h.state, { type: "complete", step: "gen", token, result: outputs("a b") }, h.now);
    expect(ctx.allSteps.map((s) => s.name)).toEqual(["gen", "fan", "after"]);
    expect(t.context.allSteps.map((s) => s.name)).toEqual(["gen", "fan", "after", "fan[1]", "fan[2]"]);
    expect(h.state.steps["fan[1]"]).toBeUndefined();
  });
});

describe("parseItems", () => {
  it.each([
    ['["a", 1, true, null, {"k": "v"}, [1]]', ["a", "1", "true", "null", '{"k":"v"}', "[1]"]],
    ["  a  b\n\tc \n", ["a", "b", "c"]],
    ["", []],
    ["  ", []],
    ["[]", []],
    ["42", ["42"]],
  ])("reads %j as %j", (value, items) => {
    expect(parseItems(value)).toEqual({ ok: true, items });
  });
});
