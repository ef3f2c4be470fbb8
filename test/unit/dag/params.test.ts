import { describe, expect, it } from "vitest";
import { resolveParams } from "../../../src/dag/params";
import type { ParamDef } from "../../../src/dag/types";

const named = (name: string, value: string): ParamDef => ({ name, value });
const positional = (value: string): ParamDef => ({ name: null, value });

/** Defaults of a DAG declaring `params: p1 p2 ENV=dev` (in any of its forms). */
const defs = [positional("p1"), positional("p2"), named("ENV", "dev")];

describe("resolveParams", () => {
  it.each([
    ["no override", undefined],
    ["an empty override", ""],
    ["a blank override", "  \n "],
  ])("keeps the defaults with %s", (_label, override) => {
    expect(resolveParams(defs, override)).toEqual({ ok: true, named: [["ENV", "dev"]], positional: ["p1", "p2"] });
  });

  it.each([
    [
      "a Dagu-style string, quotes respected",
      'ENV=prod X="a b" first',
      [
        ["ENV", "prod"],
        ["X", "a b"],
      ],
      ["first", "p2"],
    ],
    ["single quotes and escapes", `'it''s' "say \\"hi\\""`, [["ENV", "dev"]], ["its", 'say "hi"']],
    ["more positional words than defaults", "a b c", [["ENV", "dev"]], ["a", "b", "c"]],
    [
      "a JSON object, an undeclared name added after the declared ones",
      '{"NEW":"n","ENV":"prod"}',
      [
        ["ENV", "prod"],
        ["NEW", "n"],
      ],
      ["p1", "p2"],
    ],
    [
      "a JSON object of numbers, booleans and null",
      '{"N":1.5,"B":false,"Z":null}',
      [
        ["ENV", "dev"],
        ["N", "1.5"],
        ["B", "false"],
        ["Z", ""],
      ],
      ["p1", "p2"],
    ],
    ["a JSON array, as positional values", '["a", 2, true]', [["ENV", "dev"]], ["a", "2", "true"]],
  ])("overrides the defaults with %s", (_label, override, wantNamed, wantPositional) => {
    expect(resolveParams(defs, override)).toEqual({ ok: true, named: wantNamed, positional: wantPositional });
  });

  it("keeps named params out of the positional list", () => {
    const r = resolveParams([named("A", "1")], "B=2 x");
    expect(r.ok && r.positional).toEqual(["x"]);
  });

  it("keeps the order in which the DAG declares its named params", () => {
    const r = resolveParams([named("B", "1"), named("A", "2")], "A=3");
    expect(r.ok && r.named).toEqual([
      ["B", "1"],
      ["A", "3"],
    ]);
  });

  it.each([
    ["broken JSON", "{nope", /^params is not valid JSON/],
    ["a nested JSON value", '{"A":{"b":1}}', /^param A must be a string, a number or a boolean$/],
    ["a JSON name that is not a variable name", '{"1A":"x"}', /^invalid param name "1A"$/],
    ["a JSON array holding an object", '[{"a":1}]', /^a JSON array of params must hold strings, numbers or booleans$/],
    ["an unterminated quote", 'A="open', /^params: unterminated double quote$/],
  ])("refuses %s", (_label, override, message) => {
    const r = resolveParams(defs, override);
    expect(r.ok ? "resolved" : r.message).toMatch(message);
  });
});
