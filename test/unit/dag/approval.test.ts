import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { formatIssue } from "../../../src/dag/types";

describe("parseDag: approval", () => {
  it.each([
    ["true", {}],
    ["{ prompt: ship it? }", { prompt: "ship it?" }],
  ])("reads approval: %s", (form, expected) => {
    const r = parseDag(`steps:\n  - name: deploy\n    command: echo hi\n    approval: ${form}\n`, { name: "t" });
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    expect(r.dag.steps[0]?.approval).toEqual(expected);
  });

  it("a step with approval needs no command; approval: false is no approval", () => {
    const r = parseDag(
      "steps:\n  - name: gate\n    approval: true\n  - name: b\n    command: echo\n    approval: false\n",
      {
        name: "t",
      },
    );
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    expect(r.dag.steps.map((s) => s.approval)).toEqual([{}, undefined]);
  });

  it.each([
    ["yes please", "line 4, steps[0].approval: steps[0].approval must be true, false or a mapping with a prompt"],
    ["{ prompt: x, who: me }", 'line 4, steps[0].approval.who: unknown key "who"'],
  ])("refuses approval: %s with its line", (form, message) => {
    const r = parseDag(`steps:\n  - name: deploy\n    command: echo hi\n    approval: ${form}\n`, { name: "t" });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatIssue)).toEqual([message]);
  });
});
