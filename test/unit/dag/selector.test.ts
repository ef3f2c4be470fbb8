import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { type DagDef, formatIssue } from "../../../src/dag/types";
import { formatSelector, matches, poolOf, selectorOf } from "../../../src/shared/selector";

const y = (text: string) => text.replace(/^\n/, "");

function ok(yaml: string): DagDef {
  const r = parseDag(yaml, { name: "t" });
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
  return r.dag;
}

function errorsOf(yaml: string): string[] {
  const r = parseDag(yaml, { name: "t" });
  if (r.ok) throw new Error("expected errors, the DAG parsed");
  return r.errors.map(formatIssue);
}

describe("workerSelector", () => {
  it("merges a step's selector over the DAG's, and puts steps without a pool in the default pool", () => {
    const dag = ok(
      y(`
workerSelector: {region: eu, gpu: "false"}
steps:
  - name: prep
    command: echo
  - name: train
    command: echo
    workerSelector: {gpu: true}
`),
    );
    const [prep, train] = dag.steps;
    expect(selectorOf(dag, prep ?? {})).toEqual({ pool: "default", region: "eu", gpu: "false" });
    expect(selectorOf(dag, train ?? {})).toEqual({ pool: "default", region: "eu", gpu: "true" });
  });

  it("names the runner pool with the reserved label pool", () => {
    const dag = ok("workerSelector: {pool: team-a}\nsteps:\n  - echo\n");
    const step = dag.steps[0] ?? {};
    expect(poolOf(selectorOf(dag, step))).toBe("team-a");
  });

  it.each([
    ["workerSelector: gpu\nsteps:\n  - echo\n", "line 1, workerSelector: workerSelector must be a mapping of labels"],
    ["workerSelector: {pool: 'a b'}\nsteps:\n  - echo\n", 'line 1, workerSelector.pool: pool "a b" must be'],
    [
      "steps:\n  - command: echo\n    workerSelector: {gpu: [1]}\n",
      "line 3, steps[0].workerSelector.gpu: gpu must have a scalar value",
    ],
    [
      "steps:\n  - command: echo\n    workerSelector: {'-x': y}\n",
      'line 3, steps[0].workerSelector.-x: invalid label "-x"',
    ],
  ])("refuses a bad selector with its line and field (%#)", (yaml, message) => {
    const errs = errorsOf(yaml);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain(message);
  });

  it.each([
    [{ pool: "default", gpu: "true" }, { gpu: "true" }, true],
    [{ pool: "default", gpu: "true" }, { gpu: "true", os: "linux" }, true],
    [{ pool: "default", gpu: "true" }, { gpu: "false" }, false],
    [{ pool: "default", gpu: "true" }, {}, false],
    [{ pool: "default" }, { pool: "team-a" }, false],
    [{ pool: "team-a" }, { pool: "team-a" }, true],
    [{ pool: "team-a" }, {}, false],
  ])("selector %j matches runner labels %j: %s", (selector, labels, expected) => {
    expect(matches(selector, labels)).toBe(expected);
  });

  it("formats a selector as run details show it", () => {
    expect(formatSelector({ gpu: "true", pool: "default" })).toBe("{gpu=true, pool=default}");
  });
});
