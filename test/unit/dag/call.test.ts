import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { type DagDef, formatIssue } from "../../../src/dag/types";

const y = (text: string) => text.replace(/^\n/, "");

function ok(yaml: string): DagDef {
  const r = parseDag(yaml, { name: "parent" });
  if (!r.ok) throw new Error(`expected a valid DAG, got:\n${r.errors.map(formatIssue).join("\n")}`);
  return r.dag;
}

function errorLines(yaml: string): string[] {
  const r = parseDag(yaml, { name: "parent" });
  if (r.ok) throw new Error("expected errors, the DAG parsed");
  return r.errors.map(formatIssue);
}

describe("parseDag: call steps", () => {
  it("reads call with params in each of Dagu's forms", () => {
    const d = ok(
      y(`
steps:
  - name: a
    call: child
    params: "X=1 Y='two words' pos"
  - name: b
    call: child
    params:
      X: \${OUT}
  - name: c
    run: child
    params:
      - X=3
      - Y: 4
`),
    );
    expect(d.steps.map((s) => s.call)).toEqual([
      {
        dag: "child",
        params: [
          { name: "X", value: "1" },
          { name: "Y", value: "two words" },
          { name: null, value: "pos" },
        ],
      },
      { dag: "child", params: [{ name: "X", value: "${OUT}" }] },
      {
        dag: "child",
        params: [
          { name: "X", value: "3" },
          { name: "Y", value: "4" },
        ],
      },
    ]);
  });

  it.each([
    [
      "a command besides call",
      "    call: child\n    command: echo hi\n",
      'line 3, steps[0].call: step "a" calls DAG child; it cannot also have a command or a script',
    ],
    [
      "params without call",
      "    command: echo\n    params: X=1\n",
      "line 4, steps[0].params: params are for a step that calls a DAG (call: <dag name>)",
    ],
    [
      "a bad DAG name",
      "    call: ../etc\n",
      'line 3, steps[0].call: call must name a DAG (letters, digits, _ and -), not "../etc"',
    ],
    [
      "a precondition",
      "    call: child\n    preconditions: test -f x\n",
      "line 4, steps[0].preconditions: preconditions on a step that calls a DAG is not supported yet",
    ],
  ])("refuses %s", (_label, body, message) => {
    expect(errorLines(`steps:\n  - name: a\n${body}`)).toEqual([message]);
  });
});

describe("parseDag: local DAGs after ---", () => {
  it("reads each document after the first as a local DAG", () => {
    const d = ok(
      y(`
steps:
  - name: a
    call: worker
---
name: worker
params: N=1
steps:
  - echo $N
---
`),
    );
    expect(d.localDags?.map((l) => [l.name, l.steps.map((s) => s.command), l.params])).toEqual([
      ["worker", ["echo $N"], [{ name: "N", value: "1" }]],
    ]);
  });

  it("reports a local DAG's errors with its line and a localDags field", () => {
    expect(
      errorLines(
        y(`
steps:
  - echo
---
name: worker
steps:
  - name: x
    command: echo
    depends: nope
`),
      ),
    ).toEqual(['line 8, localDags[worker].steps[0].depends: step "x" depends on unknown step "nope"']);
  });

  it("needs a name for each local DAG, and no two with one name", () => {
    expect(errorLines("steps:\n  - echo\n---\nsteps:\n  - echo\n")).toEqual([
      "line 4, localDags[0].name: name is required",
    ]);
    expect(errorLines("steps:\n  - echo\n---\nname: w\nsteps:\n  - echo\n---\nname: w\nsteps:\n  - echo\n")).toEqual([
      'line 8, localDags[w].name: two DAGs of this file are named "w"',
    ]);
  });
});
