import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";

const parse = (yaml: string) => parseDag(yaml, { name: "t" });

describe("parallel steps", () => {
  it("keeps a listed parallel step as one step of the graph, each item's ITEM text kept, and dependents depend on it", () => {
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
    expect(r.dag.steps.map((s) => [s.name, s.env, s.depends, s.fanout])).toEqual([
      ["fan", [["MODE", "fast"]], [], { items: ["a", "2", '{"region":"eu","n":2}'], maxConcurrent: 1 }],
      ["after", [], ["fan"], undefined],
    ]);
  });

  it("takes the short form, a plain list, with maxConcurrent 10, and the next step of a chain follows it", () => {
    const r = parse("steps:\n  - name: fan\n    command: echo $ITEM\n    parallel: [x, y]\n  - echo next\n");
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.dag.steps.map((s) => [s.name, s.depends, s.fanout])).toEqual([
      ["fan", [], { items: ["x", "y"], maxConcurrent: 10 }],
      [expect.any(String), ["fan"], undefined],
    ]);
  });

  it.each([
    [
      "parallel: a b c",
      "steps[0].parallel",
      "steps[0].parallel must be a list of items, or one variable reference such as ${LIST}",
    ],
    [
      'parallel:\n      items: "${A} ${B}"',
      "steps[0].parallel.items",
      "steps[0].parallel.items must be a list of items, or one variable reference such as ${LIST}",
    ],
    [
      "parallel:\n      items: 5",
      "steps[0].parallel.items",
      "steps[0].parallel.items must be a list of items, or one variable reference such as ${LIST}",
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

  it.each([
    ["parallel: ${LIST}", { items: "${LIST}", maxConcurrent: 10 }],
    ["parallel: $LIST", { items: "${LIST}", maxConcurrent: 10 }],
    ["parallel:\n      items: ${OUT.files}\n      maxConcurrent: 3", { items: "${OUT.files}", maxConcurrent: 3 }],
    ["parallel:\n      items: ${OUT.list[0].names}", { items: "${OUT.list[0].names}", maxConcurrent: 10 }],
  ])("keeps a step whose items come from a variable (%s) as one step of the graph", (yaml, fanout) => {
    const r = parse(
      `type: graph\nparams: LIST=x\nsteps:\n  - name: gen\n    command: echo\n    output: OUT\n  - name: fan\n    depends: gen\n    command: echo $ITEM\n    ${yaml}\n  - name: after\n    depends: fan\n    command: echo\n`,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.warnings).toEqual([]);
    expect(r.dag.steps.map((s) => [s.name, s.depends, s.fanout, s.parallelGroup])).toEqual([
      ["gen", [], undefined, undefined],
      ["fan", ["gen"], fanout, undefined],
      ["after", ["fan"], undefined, undefined],
    ]);
  });

  it("warns at validation about parallel items from a variable nothing defines", () => {
    const r = parse("steps:\n  - name: fan\n    command: echo $ITEM\n    parallel: ${NOPE}\n");
    expect(r.warnings.map((w) => [w.field, w.message])).toEqual([
      ["steps.fan.parallel", "${NOPE} is not a param, env entry, run variable or output; it is left as written"],
    ]);
  });

  it("refuses a step named like an instance of a step whose items come from a variable", () => {
    const r = parse(
      "steps:\n  - name: fan\n    command: echo $ITEM\n    parallel: ${L}\n  - name: fan[12]\n    command: echo\nparams: L=a\n",
    );
    expect(r.ok ? [] : r.errors.map((e) => [e.field, e.message])).toEqual([
      ["steps[0]", 'step "fan[12]" has the name of an instance of this parallel step'],
    ]);
    const handler = parse("steps:\n  - echo\nhandlerOn:\n  exit:\n    command: echo $ITEM\n    parallel: ${L}\n");
    expect(handler.ok ? [] : handler.errors.map((e) => [e.field, e.message])).toEqual([
      ["handlerOn.exit.parallel", "a handler cannot be a parallel step"],
    ]);
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

  it("knows ITEM in the env of a parallel step, listed items or not: no warning about it", () => {
    for (const items of ["[a, b]", "${L}"]) {
      const r = parse(
        `params: L=x\nsteps:\n  - name: fan\n    command: cat $F\n    env:\n      - F: \${ITEM}.txt\n    parallel: ${items}\n`,
      );
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      expect(r.warnings).toEqual([]);
    }
  });
});
