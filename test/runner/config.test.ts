import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, UsageError } from "../../runner/src/config.ts";

describe("the runner's flags", () => {
  it("default to the environment, then to a local server with 4 slots", () => {
    expect(parseConfig([], {})).toMatchObject({
      server: "http://127.0.0.1:8787",
      tokenFile: undefined,
      runAs: undefined,
      concurrency: 4,
      labels: { pool: "default" },
    });
    const env = {
      DAGFLARE_SERVER: "https://d.example.com/",
      DAGFLARE_RUNNER_TOKEN_FILE: "/t",
      DAGFLARE_RUNNER_RUN_AS: "u",
    };
    expect(parseConfig([], env)).toMatchObject({ server: "https://d.example.com", tokenFile: "/t", runAs: "u" });
  });

  it("prefer flags over the environment", () => {
    const config = parseConfig(["--server", "http://a:1", "--token-file", "/flag", "--run-as", "nobody"], {
      DAGFLARE_SERVER: "http://b:2",
      DAGFLARE_RUNNER_TOKEN_FILE: "/env",
      DAGFLARE_RUNNER_RUN_AS: "env",
    });
    expect(config).toMatchObject({ server: "http://a:1", tokenFile: "/flag", runAs: "nobody" });
  });

  it("read the token from systemd's credential when no file is named and the credential exists", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "creds-"));
    expect(parseConfig([], { CREDENTIALS_DIRECTORY: dir })).toMatchObject({ tokenFile: undefined });
    writeFileSync(path.join(dir, "runner-token"), "t", { mode: 0o400 });
    expect(parseConfig([], { CREDENTIALS_DIRECTORY: dir })).toMatchObject({
      tokenFile: path.join(dir, "runner-token"),
    });
    expect(parseConfig(["--token-file", "/x"], { CREDENTIALS_DIRECTORY: dir })).toMatchObject({ tokenFile: "/x" });
  });

  it("start steps with posix_spawn unless told helper or spawn, by flag or environment", () => {
    expect(parseConfig([], {})).toMatchObject({ launcher: "posix-spawn" });
    expect(parseConfig(["--launcher", "helper"], {})).toMatchObject({ launcher: "helper" });
    expect(parseConfig(["--launcher", "spawn"], {})).toMatchObject({ launcher: "spawn" });
    expect(parseConfig([], { DAGFLARE_RUNNER_LAUNCHER: "spawn" })).toMatchObject({ launcher: "spawn" });
    expect(() => parseConfig(["--launcher", "fork"], {})).toThrow(
      '--launcher "fork" must be posix-spawn, helper, spawn',
    );
  });

  it("exec simple commands without their shell unless told --shell-always, by flag or environment", () => {
    expect(parseConfig([], {})).toMatchObject({ shellAlways: false });
    expect(parseConfig(["--shell-always"], {})).toMatchObject({ shellAlways: true });
    expect(parseConfig([], { DAGFLARE_RUNNER_SHELL_ALWAYS: "1" })).toMatchObject({ shellAlways: true });
  });

  it("start a chain's next step early unless told --no-early-start, by flag or environment", () => {
    expect(parseConfig([], {})).toMatchObject({ earlyStart: true });
    expect(parseConfig(["--no-early-start"], {})).toMatchObject({ earlyStart: false });
    expect(parseConfig([], { DAGFLARE_RUNNER_EARLY_START: "0" })).toMatchObject({ earlyStart: false });
    expect(parseConfig(["--early-start"], { DAGFLARE_RUNNER_EARLY_START: "0" })).toMatchObject({ earlyStart: true });
    expect(() => parseConfig([], { DAGFLARE_RUNNER_EARLY_START: "yes" })).toThrow(
      'DAGFLARE_RUNNER_EARLY_START "yes" must be 0 or 1',
    );
  });

  it("run a chain ahead as deep as the server offers, or within --early-start-depth from 1 to 64", () => {
    expect(parseConfig([], {})).toMatchObject({ earlyStartDepth: undefined });
    expect(parseConfig(["--early-start-depth", "3"], {})).toMatchObject({ earlyStartDepth: 3 });
    expect(() => parseConfig(["--early-start-depth", "0"], {})).toThrow(
      '--early-start-depth "0" must be a whole number from 1 to 64',
    );
  });

  it("make a runner id from the host name, the pid and 4 random hex digits", () => {
    const config = parseConfig([], {});
    expect(config !== "help" && config.runnerId).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{4}$`));
  });

  it("parse labels as comma-separated key=value pairs", () => {
    expect(parseConfig(["--labels", "os=linux, gpu=a100,,empty="], {})).toMatchObject({
      labels: { os: "linux", gpu: "a100", empty: "", pool: "default" },
    });
  });

  it("put the runner in the pool named by --pool, else $DAGFLARE_RUNNER_POOL, else default", () => {
    expect(parseConfig(["--pool", "team-a"], {})).toMatchObject({ labels: { pool: "team-a" } });
    expect(parseConfig([], { DAGFLARE_RUNNER_POOL: "etl" })).toMatchObject({ labels: { pool: "etl" } });
    expect(parseConfig(["--labels", "pool=etl"], {})).toMatchObject({ labels: { pool: "etl" } });
    expect(parseConfig([], {})).toMatchObject({ labels: { pool: "default" } });
  });

  it("answer --help with 'help'", () => {
    expect(parseConfig(["--concurrency", "2", "--help"], {})).toBe("help");
  });

  it.each([
    [["--server", "not a url"], /--server "not a url" is not a URL/],
    [["--server", "ftp://x"], /must be an http/],
    [["--concurrency", "0"], /--concurrency "0" must be a whole number from 1 to 64/],
    [["--concurrency", "65"], /from 1 to 64/],
    [["--concurrency", "2.5"], /whole number/],
    [["--concurrency", "0x10"], /whole number/],
    [["--labels", "novalue"], /"novalue" is not key=value/],
    [["--labels", "=v"], /is not key=value/],
    [["--labels", "a=1,a=2"], /"a" is given twice/],
    [["--pool", "a b"], /--pool "a b" must be 1-64 letters/],
    [["--pool", "a", "--labels", "pool=b"], /--pool "a" and --labels pool=b disagree/],
    [["--id", "has space"], /--id "has space"/],
    [["--id", "x".repeat(201)], /1-200 characters/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["stray"], /Unexpected argument 'stray'/],
    [["--concurrency"], /argument missing/],
    [["--token", "t"], /--token is not accepted/],
    [["--token-file", " "], /--token-file must not be empty/],
    [["--run-as", ""], /--run-as must not be empty/],
  ])("reject %j with a message naming the flag", (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(UsageError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });
});
