// The runner's part of repeatPolicy and of env values evaluated once per run: the repeat
// condition reads this execution's output, and evaluated env values go back with the result.
import { describe, expect, it } from "vitest";
import { withFakeServer } from "./fake-server";

const { run } = withFakeServer();

describe("the repeat condition", () => {
  it("reads the step's own output as the execution that just finished left it", async () => {
    const { done } = await run({
      command: "echo new",
      output: "OUT",
      // What the server sends: the value of the execution before.
      env: { OUT: "old" },
      repeatCondition: { condition: "$OUT", expected: "new" },
    });
    expect(done.output).toBe("new");
    expect(done.repeatConditionMet).toBe(true);
  });
});

describe("env values evaluated once", () => {
  it("sends back the values the server asks for, as the step saw them", async () => {
    const { done } = await run({
      command: 'echo "$STAMP"',
      env: { STAMP: "`echo 42`", DIR: "/data/${STAMP}" },
      shellEnv: ["STAMP", "DIR"],
      reportEnv: ["STAMP", "DIR"],
    });
    expect(done.env).toEqual({ STAMP: "42", DIR: "/data/42" });
  });

  it("keeps a value holding a secret's value on its host, and says so in the step's log", async () => {
    process.env.ENV_ONCE_SECRET = "s3cr3t-value";
    try {
      const { done, stderr } = await run({
        command: "true",
        env: { COPY: "`echo $PASS`", PLAIN: "`echo plain`" },
        secrets: [{ name: "PASS", provider: "env", key: "ENV_ONCE_SECRET" }],
        shellEnv: ["COPY", "PLAIN"],
        reportEnv: ["COPY", "PLAIN"],
      });
      expect(done.env).toEqual({ PLAIN: "plain" });
      expect(stderr).toContain("env COPY holds a secret's value");
    } finally {
      delete process.env.ENV_ONCE_SECRET;
    }
  });

  it("fails the step with the command's stderr when a backtick command fails, sending no values", async () => {
    const { done } = await run({
      command: "true",
      env: { STAMP: "`echo no such thing >&2; exit 3`" },
      shellEnv: ["STAMP"],
      reportEnv: ["STAMP"],
    });
    expect(done.error).toBe(
      "env STAMP: command substitution failed (`echo no such thing >&2; exit 3` exited with 3: no such thing)",
    );
    expect(done.env).toBeUndefined();
  });

  it("fails the step when the values to share pass the limit", async () => {
    const { done } = await run({
      command: "true",
      env: { BIG: "`head -c 70000 /dev/zero | tr '\\\\0' x`" },
      shellEnv: ["BIG"],
      reportEnv: ["BIG"],
    });
    expect(done.error).toMatch(/^env values evaluated for the run come to 70003 bytes, over the limit of 65536 bytes$/);
  });
});
