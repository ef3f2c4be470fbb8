// The pure parts of the dagflare command: validation issues as file:line: message, and a DAG's
// plan in layers.
import { describe, expect, it } from "vitest";
import { layers } from "../../cli/src/plan.ts";
import { fileIssue } from "../../cli/src/validation.ts";

describe("fileIssue", () => {
  it.each([
    ["line 4, steps[0].depends: unknown step", "dags/a.yaml:4: steps[0].depends: unknown step"],
    ["line 2: YAML syntax: bad indentation", "dags/a.yaml:2: YAML syntax: bad indentation"],
    ["steps: at least one step is needed", "dags/a.yaml: steps: at least one step is needed"],
  ])("writes the server's %j as %j", (issue, line) => {
    expect(fileIssue("dags/a.yaml", issue)).toBe(line);
  });

  it("puts a warning's kind after the location", () => {
    expect(fileIssue("a.yaml", "line 7, steps.x.call: DAG y does not exist (yet)", "warning: ")).toBe(
      "a.yaml:7: warning: steps.x.call: DAG y does not exist (yet)",
    );
  });
});

describe("layers", () => {
  it("puts each step one layer after its deepest dependency, in the DAG's order", () => {
    const steps = [
      { name: "a" },
      { name: "b" },
      { name: "c", depends: ["a"] },
      { name: "d", depends: ["c", "b"] },
      { name: "e", depends: ["a"] },
    ];
    expect(layers(steps)).toEqual([["a", "b"], ["c", "e"], ["d"]]);
  });

  it("gives a chain one step per layer", () => {
    expect(layers([{ name: "x" }, { name: "y", depends: ["x"] }, { name: "z", depends: ["y"] }])).toEqual([
      ["x"],
      ["y"],
      ["z"],
    ]);
  });
});
