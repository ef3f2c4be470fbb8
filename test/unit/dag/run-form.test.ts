// Current Dagu's `run:` form of a shell step, and the older `run:` that called a DAG.
import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";

function step(yaml: string) {
  const r = parseDag(yaml, { name: "d" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.dag.steps[0];
}

function errors(yaml: string) {
  const r = parseDag(yaml, { name: "d" });
  if (r.ok) throw new Error("expected errors");
  return r.errors;
}

describe("run: in a step", () => {
  it("runs a one-line string as the step's command", () => {
    expect(step("steps:\n  - name: a\n    run: echo hi\n")).toMatchObject({ command: "echo hi" });
  });

  it("runs a string of several lines as the step's script", () => {
    const s = step("steps:\n  - name: a\n    run: |\n      echo one\n      echo two\n");
    expect(s?.script).toBe("echo one\necho two\n");
    expect(s?.command).toBeUndefined();
  });

  it("runs a list as commands one after the other that stop at the first failure", () => {
    const s = step(
      "steps:\n  - name: a\n    run:\n      - echo one\n      - ''\n      - echo two: three\n      - 42\n",
    );
    expect(s?.script).toBe("set -e\necho one\necho two: three\n42\n");
  });

  it("keeps the older form: run with params calls a DAG", () => {
    const s = step("steps:\n  - name: a\n    run: child\n    params: X=1\n");
    expect(s?.call).toEqual({ dag: "child", params: [{ name: "X", value: "1" }] });
    expect(s?.command).toBeUndefined();
  });

  it("refuses run beside command, naming both at the line", () => {
    expect(errors("steps:\n  - name: a\n    command: echo\n    run: echo\n")).toEqual([
      expect.objectContaining({ line: 4, field: "steps[0].run", message: 'step "a" has run and command: give one' }),
    ]);
  });

  it("refuses a list item that is no command line", () => {
    expect(errors("steps:\n  - name: a\n    run:\n      - echo\n      - [x, y]\n")).toEqual([
      expect.objectContaining({ line: 5, field: "steps[0].run[1]" }),
    ]);
  });

  it("refuses a list without a command", () => {
    expect(errors("steps:\n  - name: a\n    run: ['', ' ']\n")).toEqual([
      expect.objectContaining({ field: "steps[0].run", message: "steps[0].run needs at least one command" }),
    ]);
  });

  it("names a step that has an id and no name by its id, as current Dagu does", () => {
    const r = parseDag("steps:\n  - id: fetch\n    run: echo\n  - run: echo\n", { name: "d" });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.dag.steps.map((s) => s.name)).toEqual(["fetch", "step_2"]);
    expect(r.dag.steps[1]?.depends).toEqual(["fetch"]);
  });
});
