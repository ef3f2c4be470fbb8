// Conditions evaluated by the runner with a real shell, as a step's preconditions and repeat
// condition are.
import { describe, expect, it } from "vitest";
import { evaluateCondition, expandWithShell, OutputMatcher } from "../../runner/src/conditions";
import type { ExecSpec } from "../../src/shared/protocol";

const exec: ExecSpec = {
  shell: ["sh"],
  args: ["first"],
  env: { MODE: "prod", N: "7" },
  maxOutputBytes: 1024,
};

describe("evaluateCondition", () => {
  it.each([
    ["a command that exits 0", { condition: "test -d /" }, true],
    ["a command that exits 1", { condition: "test -f /no/such/file" }, false],
    ["a negated failing command", { condition: "false", negate: true }, true],
    ["an env variable equal to expected", { condition: "$MODE", expected: "prod" }, true],
    ["an env variable not equal", { condition: "$MODE", expected: "dev" }, false],
    ["backticks and $(...)", { condition: "`echo a`-$(echo b)-$1", expected: "a-b-first" }, true],
    ["a re: pattern", { condition: "$N$N", expected: "re:^[0-9]{2}$" }, true],
    ["a re: pattern that does not match", { condition: "x$N", expected: "re:^[0-9]+$" }, false],
    ["a negated comparison", { condition: "$MODE", expected: "dev", negate: true }, true],
    ["text with spaces and quotes kept as is", { condition: `a  "b" 'c'`, expected: `a  "b" 'c'` }, true],
  ])("%s", async (_label, c, met) => {
    expect((await evaluateCondition(exec, c)).met).toBe(met);
  });

  it("says what it found", async () => {
    const r = await evaluateCondition(exec, { condition: "$MODE", expected: "dev" });
    expect(r.detail).toBe('"$MODE" gave "prod", expected "dev"');
  });

  it("counts a condition that cannot run as not met", async () => {
    const r = await evaluateCondition({ ...exec, dir: "/no/such/dir" }, { condition: "true" });
    expect(r.met).toBe(false);
    expect(r.detail).toMatch(/could not run/);
  });
});

describe("OutputMatcher", () => {
  it("finds a pattern in a line split across chunks, on either stream", () => {
    const m = new OutputMatcher(["re:^WARN \\d+$"]);
    m.push("stdout", "info\nWA");
    expect(m.matched).toBe(false);
    m.push("stdout", "RN 42\nmore");
    expect(m.matched).toBe(true);
    const plain = new OutputMatcher(["disk full"]);
    plain.push("stderr", "error: disk full (no newline)");
    expect(plain.matched).toBe(false);
    plain.end();
    expect(plain.matched).toBe(true);
  });
});

describe("expandWithShell (env values with backticks)", () => {
  const env = { ...exec, env: { ...exec.env, OUT: "`echo injected`", YEAR: "2024" } };
  it("runs each backtick command and fills variables from the env, never running what a variable holds", async () => {
    expect(await expandWithShell(env, "${YEAR}/`echo $MODE`/$OUT")).toEqual({ value: "2024/prod/`echo injected`" });
  });
  it("fails when a command substitution fails", async () => {
    expect(await expandWithShell(env, "x`exit 3`")).toEqual({ error: "`exit 3` exited with 3" });
  });
});
