import { describe, expect, it } from "vitest";
import { buildExecSpec, expandVars } from "../../../src/dag/exec-spec";
import { resolveParams } from "../../../src/dag/params";
import { parseDag } from "../../../src/dag/parse";
import type { DagDef } from "../../../src/dag/types";

const defs = [
  { name: null, value: "p1" },
  { name: null, value: "p2" },
  { name: "ENV", value: "dev" },
];

describe("resolveParams", () => {
  it.each([
    ["nothing", undefined, [["ENV", "dev"]], ["p1", "p2"]],
    ["a Dagu-style string", 'ENV=prod "x y"', [["ENV", "prod"]], ["x y", "p2"]],
    [
      "a JSON object",
      '{"ENV":"prod","NEW":1}',
      [
        ["ENV", "prod"],
        ["NEW", "1"],
      ],
      ["p1", "p2"],
    ],
    ["a JSON array", '["a","b","c"]', [["ENV", "dev"]], ["a", "b", "c"]],
  ])("overrides the defaults with %s", (_label, override, named, positional) => {
    expect(resolveParams(defs, override)).toEqual({ ok: true, named, positional });
  });

  it.each([
    ["broken JSON", "{nope", /not valid JSON/],
    ["a nested value", '{"A":{"b":1}}', /must be a string/],
    ["a bad name", '{"1A":"x"}', /invalid param name/],
  ])("refuses %s", (_label, override, message) => {
    const r = resolveParams(defs, override);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe("expandVars", () => {
  const lookup = (n: string) => ({ A: "1", B: "two" })[n];
  it.each([
    ["${A}-$B", "1-two"],
    ["$UNKNOWN and ${UNKNOWN}", "$UNKNOWN and ${UNKNOWN}"],
    ["$1 $$ ${A}", "$1 $$ 1"],
  ])("expands %j to %j", (text, want) => {
    expect(expandVars(text, lookup)).toBe(want);
  });
});

describe("buildExecSpec", () => {
  const parsed = parseDag(
    `name: d
shell: bash
params: "pos1 NAME=world"
env:
  - BASE: /data
  - OUT: \${BASE}/\${NAME}
steps:
  - name: first
    command: echo hi
    output: GREETING
  - name: second
    script: echo "$GREETING"
    dir: \${OUT}
    env:
      - MSG: \${GREETING}!
    timeoutSec: 9
`,
  );
  if (!parsed.ok) throw new Error("bad fixture");
  const dag: DagDef = parsed.dag;
  const step = dag.steps[1];
  if (!step) throw new Error("bad fixture");

  it("resolves env in order with params, run variables and earlier outputs", () => {
    const spec = buildExecSpec(dag, step, {
      runId: "r1",
      params: { named: [["NAME", "world"]], positional: ["pos1"] },
      outputs: { GREETING: "hello" },
      maxOutputBytes: 100,
    });
    expect(spec).toEqual({
      script: 'echo "$GREETING"',
      shell: ["bash"],
      args: ["pos1"],
      dir: "/data/world",
      timeoutSec: 9,
      maxOutputBytes: 100,
      env: {
        DAG_NAME: "d",
        DAG_RUN_ID: "r1",
        DAG_RUN_STEP_NAME: "second",
        NAME: "world",
        GREETING: "hello",
        BASE: "/data",
        OUT: "/data/world",
        MSG: "hello!",
      },
    });
  });
});
