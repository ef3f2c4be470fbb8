import { describe, expect, it } from "vitest";
import { paramFields, startParams } from "../../ui/src/lib/params";

describe("the start form's params", () => {
  it("fills each declared param with its default, quoted values unquoted", () => {
    expect(paramFields(["ENV", "MSG", "$1"], 'ENV=dev MSG="hello world" "a b"')).toEqual([
      { name: "ENV", value: "dev" },
      { name: "MSG", value: "hello world" },
      { name: "$1", value: "a b" },
    ]);
  });

  it("leaves a param without a default empty", () => {
    expect(paramFields(["A", "B"], "A=1")).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "" },
    ]);
  });

  it("sends named params as a JSON object, exactly as typed", () => {
    expect(startParams([{ name: "ENV", value: 'prod "eu"' }])).toBe('{"ENV":"prod \\"eu\\""}');
  });

  it("sends positional params in Dagu's KEY=value form, in order", () => {
    expect(
      startParams([
        { name: "ENV", value: "x y" },
        { name: "$1", value: "first" },
      ]),
    ).toBe('ENV="x y" first');
  });

  it("sends nothing for a DAG without params", () => {
    expect(startParams([])).toBeUndefined();
  });
});
