import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";

const parse = (yaml: string) => parseDag(yaml, { name: "t" });

describe("parallel steps", () => {
  it("expands a list into one instance per item, with ITEM in its env, and dependents wait for all", () => {
    const r = parse(`type: graph
steps:
  - name: fan
    command: echo $ITEM
    env:
      - MODE: fast
    parallel:
      items: [a, 2, { region: eu, n: 2 }]
      maxConcurrent: 1
  - name: after
    command: echo done
    depends: fan
`);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.warnings).toEqual([]);
    const group = { name: "fan", maxConcurrent: 1 };
    expect(r.dag.steps.map((s) => [s.name, s.env, s.depends, s.parallelGroup])).toEqual([
      [
        "fan[1]",
        [
          ["ITEM", "a"],
          ["MODE", "fast"],
        ],
        [],
        group,
      ],
      [
        "fan[2]",
        [
          ["ITEM", "2"],
          ["MODE", "fast"],
        ],
        [],
        group,
      ],
      [
        "fan[3]",
        [
          ["ITEM", '{"region":"eu","n":2}'],
          ["MODE", "fast"],
        ],
        [],
        group,
      ],
      ["after", [], ["fan[1]", "fan[2]", "fan[3]"], undefined],
    ]);
  });

  it("takes the short form, a plain list, with maxConcurrent 10", () => {
    const r = parse("steps:\n  - name: fan\n    command: echo $ITEM\n    parallel: [x, y]\n  - echo next\n");
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.dag.steps.map((s) => [s.name, s.depends, s.parallelGroup?.maxConcurrent])).toEqual([
      ["fan[1]", [], 10],
      ["fan[2]", [], 10],
      // a chain: the next step follows every instance
      [expect.any(String), ["fan[1]", "fan[2]"], undefined],
    ]);
  });

  it.each([
    [
      "parallel: ${LIST}",
      "steps[0].parallel",
      "parallel items from a variable are not supported yet: list the items in the DAG file",
    ],
    [
      "parallel:\n      items: ${LIST}",
      "steps[0].parallel.items",
      "parallel items from a variable are not supported yet: list the items in the DAG file",
    ],
    ["parallel: []", "steps[0].parallel", "parallel needs at least one item"],
    ["parallel:\n      maxConcurrent: 2", "steps[0].parallel.items", "parallel needs items"],
    [
      "parallel:\n      items: [a]\n      maxConcurrent: 0",
      "steps[0].parallel.maxConcurrent",
      expect.stringContaining("maxConcurrent"),
    ],
    ["parallel:\n      items: [a]\n      colour: red", "steps[0].parallel.colour", 'unknown key "colour"'],
    ["parallel: [[a]]", "steps[0].parallel[0]", "a parallel item must be a string, a number or a mapping"],
  ])("refuses %s with a clear error", (yaml, field, message) => {
    const r = parse(`steps:\n  - command: echo $ITEM\n    ${yaml}\n`);
    expect(r.ok ? [] : r.errors.map((e) => ({ field: e.field, message: e.message }))).toEqual([{ field, message }]);
  });

  it("refuses a step named like an instance, and parallel on a handler", () => {
    const clash = parse(
      "steps:\n  - name: fan\n    command: echo $ITEM\n    parallel: [a]\n  - name: fan[1]\n    command: echo\n",
    );
    expect(clash.ok ? [] : clash.errors.map((e) => [e.field, e.message])).toEqual([
      ["steps[0]", 'step "fan[1]" has the name of an instance of this parallel step'],
    ]);
    const handler = parse("steps:\n  - echo\nhandlerOn:\n  exit:\n    command: echo $ITEM\n    parallel: [a]\n");
    expect(handler.ok ? [] : handler.errors.map((e) => [e.field, e.message])).toEqual([
      ["handlerOn.exit.parallel", "a handler cannot be a parallel step"],
    ]);
  });
});
