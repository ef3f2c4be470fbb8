import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import type { DagDef } from "../../../src/dag/types";
import { Harness, ok } from "./harness";

function parsed(yaml: string): DagDef {
  const r = parseDag(yaml, { name: "d" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.dag;
}

/** A parallel call of `child` over three items, its aggregate in RESULTS; `extra` goes into the step. */
const callDag = (extra = "") =>
  parsed(`type: graph
steps:
  - name: fan
    call: child
    parallel:
      items: [a, b, c]
    output: RESULTS
${extra}  - name: after
    depends: fan
    command: echo done
`);

function childDone(h: Harness, step: string, status: "succeeded" | "failed", outputs: Record<string, string>) {
  h.fire({ type: "childDone", step, childRunId: h.childRunId(step), status, outputs, paramsText: `p-${step}` });
}

const aggregate = (h: Harness) => JSON.parse(h.state.outputs.RESULTS ?? "null");

describe("the output of a parallel step (Dagu's aggregate)", () => {
  it("holds summary, one result per sub-DAG run in item order, and the outputs of each", () => {
    const h = new Harness(callDag());
    h.fire({ type: "start" });
    childDone(h, "fan[2]", "succeeded", { R: "rb" });
    childDone(h, "fan[1]", "succeeded", { R: "ra" });
    // The instances set no variable of their own while they run.
    expect(h.state.outputs).toEqual({});
    childDone(h, "fan[3]", "succeeded", { R: "rc" });
    expect(h.status("fan")).toBe("succeeded");
    const runId = (n: number) => h.state.steps[`fan[${n}]`]?.subRuns?.[0];
    expect(aggregate(h)).toEqual({
      summary: { total: 3, succeeded: 3, failed: 0 },
      results: [1, 2, 3].map((n) => ({
        name: "child",
        dagRunId: runId(n),
        params: `p-fan[${n}]`,
        outputs: { R: `r${"abc"[n - 1]}` },
        status: "succeeded",
      })),
      outputs: [{ R: "ra" }, { R: "rb" }, { R: "rc" }],
    });
    expect(h.dispatched()).toEqual(["after"]);
  });

  it("counts a failed sub-DAG run as failed, keeps its result, and lists outputs of the succeeded ones only", () => {
    const h = new Harness(callDag());
    h.fire({ type: "start" });
    childDone(h, "fan[1]", "succeeded", { R: "ra" });
    childDone(h, "fan[2]", "failed", { R: "rb" });
    childDone(h, "fan[3]", "succeeded", { R: "rc" });
    expect(h.status("fan")).toBe("failed");
    const got = aggregate(h);
    expect(got.summary).toEqual({ total: 3, succeeded: 2, failed: 1 });
    expect(got.results.map((r: { status: string }) => r.status)).toEqual(["succeeded", "failed", "succeeded"]);
    expect(got.outputs).toEqual([{ R: "ra" }, { R: "rc" }]);
    expect(h.status("after")).toBe("aborted");
  });

  it("holds, for a command step, each instance's captured output under its name with its ITEM as params", () => {
    const h = new Harness(
      parsed(`type: graph
steps:
  - name: fan
    command: echo "got $ITEM"
    parallel: [x, y]
    output: RESULTS
`),
    );
    h.fire({ type: "start" });
    h.run("fan[1]", { ...ok, output: "got x" });
    h.run("fan[2]", { ...ok, output: "got y" });
    expect(aggregate(h)).toEqual({
      summary: { total: 2, succeeded: 2, failed: 0 },
      results: [
        { name: "fan[1]", params: "x", outputs: { RESULTS: "got x" }, status: "succeeded" },
        { name: "fan[2]", params: "y", outputs: { RESULTS: "got y" }, status: "succeeded" },
      ],
      outputs: [{ RESULTS: "got x" }, { RESULTS: "got y" }],
    });
  });

  it("is an empty aggregate when the items are an empty list", () => {
    const h = new Harness(
      parsed(`steps:
  - name: gen
    command: echo '[]'
    output: L
  - name: fan
    command: echo $ITEM
    parallel: \${L}
    output: RESULTS
`),
    );
    h.fire({ type: "start" });
    h.run("gen", { ...ok, output: "[]" });
    expect(h.status("fan")).toBe("succeeded");
    expect(aggregate(h)).toEqual({ summary: { total: 0, succeeded: 0, failed: 0 }, results: [], outputs: [] });
  });
});
