// Where the runner's token comes from, and whom steps run as: the rules that keep the token out
// of a step's reach.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, UsageError } from "../../runner/src/config.ts";
import { readTokenFile } from "../../runner/src/credentials.ts";
import { chooseStepUser } from "../../runner/src/step-user.ts";

function file(text: string, mode = 0o600): string {
  const f = path.join(mkdtempSync(path.join(tmpdir(), "token-")), "runner-token");
  writeFileSync(f, text, { mode });
  return f;
}

describe("the runner token", () => {
  it("is read from its file without the final newline", () => {
    expect(readTokenFile(file("dfr_abc\n"))).toBe("dfr_abc");
    expect(readTokenFile(file("dfr_abc", 0o400))).toBe("dfr_abc");
  });

  it.each([
    [file("t", 0o640), /can be read by other users \(mode 640\)/],
    [file("t", 0o604), /can be read by other users \(mode 604\)/],
    [file("\n"), /is empty/],
    [file("a\nb\n"), /on one line/],
    [path.join(tmpdir(), "no-such-token-file"), /cannot read the token file .*: ENOENT/],
    [tmpdir(), /is not a regular file/],
  ])("is refused from %s, saying why", (f, message) => {
    expect(() => readTokenFile(f)).toThrow(UsageError);
    expect(() => readTokenFile(f)).toThrow(message);
  });

  it("is never taken from the command line or the environment", () => {
    expect(() => parseConfig(["--token", "t"], {})).toThrow(/--token is not accepted/);
    expect(() => parseConfig([], { DAGFLARE_RUNNER_TOKEN: "t" })).toThrow(/DAGFLARE_RUNNER_TOKEN is set/);
  });
});

describe("the user steps run as", () => {
  const noWarnings = (line: string) => {
    throw new Error(`unexpected warning: ${line}`);
  };

  it("must be given when the runner runs as root", () => {
    expect(() => chooseStepUser(undefined, 0, noWarnings)).toThrow(
      /runs as root and no --run-as was given: steps running as root could read the runner's token/,
    );
  });

  it("is the runner's own user when the runner is not root and none is given", () => {
    expect(chooseStepUser(undefined, 1000, noWarnings)).toBeUndefined();
  });

  it("is the --run-as user, looked up by name, when the runner is root", () => {
    expect(chooseStepUser("nobody", 0, noWarnings)).toMatchObject({ name: "nobody", uid: 65534 });
  });

  it("may be root only when said explicitly, with a warning", () => {
    const warnings: string[] = [];
    expect(chooseStepUser("root", 0, (l) => warnings.push(l))).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/steps run as root .* can read the runner's token/)]);
  });

  it("cannot be another user when the runner is not root", () => {
    expect(() => chooseStepUser("nobody", 1000, noWarnings)).toThrow(/only a runner started as root/);
  });

  it("must exist", () => {
    expect(() => chooseStepUser("no-such-user-here", 0, noWarnings)).toThrow(/no such user on this host/);
  });
});
