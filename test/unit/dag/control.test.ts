import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { type DagIssue, formatIssue } from "../../../src/dag/types";

function errors(yaml: string): DagIssue[] {
  const r = parseDag(yaml, { name: "test" });
  if (r.ok) throw new Error("expected errors, the DAG parsed");
  return r.errors;
}

describe("parseDag: executor", () => {
  it.each(["shell", "command", "{ type: shell }"])("accepts the shell executor written as %s", (form) => {
    const r = parseDag(`steps:\n  - command: echo hi\n    executor: ${form}\n`, { name: "t" });
    expect(r.ok).toBe(true);
  });

  it.each([
    ["docker", "executor: docker", 3, "steps[0].executor"],
    ["http", "executor:\n      type: http\n      config: {}", 4, "steps[0].executor.type"],
    ["ssh", "executor: { type: ssh }", 3, "steps[0].executor.type"],
  ])("refuses the %s executor, naming it, with its line", (name, yaml, line, field) => {
    const errs = errors(`steps:\n  - command: echo hi\n    ${yaml}\n`);
    expect(errs.map(formatIssue)).toEqual([
      `line ${line}, ${field}: executor "${name}" is not supported: dagflare runs steps with the shell executor only`,
    ]);
  });
});
