import { describe, expect, it } from "vitest";
import { parseDotenv } from "../../runner/src/dotenv.ts";

const host: Record<string, string> = { HOME: "/home/u" };
const parse = (text: string) => parseDotenv(text, (n) => host[n]);

describe("parseDotenv", () => {
  it.each([
    ["KEY=value", [["KEY", "value"]]],
    ["  KEY = spaced value  ", [["KEY", "spaced value"]]],
    ["export KEY=1", [["KEY", "1"]]],
    [
      "# a comment\n\nA=1\r\nB=2",
      [
        ["A", "1"],
        ["B", "2"],
      ],
    ],
    ["A=bare # comment", [["A", "bare"]]],
    ["A=no#comment", [["A", "no#comment"]]],
    ["A='single $HOME # kept'", [["A", "single $HOME # kept"]]],
    ['A="double\\nline \\"q\\" \\$HOME"', [["A", 'double\nline "q" $HOME']]],
    ["A=", [["A", ""]]],
    [
      "A=1\nB=${A}-$HOME-${NOPE}",
      [
        ["A", "1"],
        ["B", "1-/home/u-"],
      ],
    ],
    [
      'A=x\nB="$A y"',
      [
        ["A", "x"],
        ["B", "x y"],
      ],
    ],
  ])("reads %j", (text, vars) => {
    expect(parse(text)).toEqual({ vars });
  });

  it.each([
    ["not a line", "line 1: expected KEY=value"],
    ["A=1\n1X=2", "line 2: expected KEY=value"],
    ["A='open", "line 1: unterminated ' quote"],
    ['A="open', 'line 1: unterminated " quote'],
  ])("refuses %j with the line at fault", (text, error) => {
    expect(parse(text)).toEqual({ error });
  });
});
