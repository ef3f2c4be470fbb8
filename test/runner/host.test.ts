// What a step finds or leaves on the runner's host: stdout/stderr files, .env files, secrets.
// Real processes, a fake server.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { withFakeServer } from "./fake-server";

const { run } = withFakeServer();

const scratch = (prefix: string) => realpathSync(mkdtempSync(path.join(tmpdir(), `runner-${prefix}-`)));

describe("stdout and stderr files", () => {
  it("appends the step's stdout and stderr to its files, relative to its dir, and still ships the log", async () => {
    const dir = scratch("files");
    writeFileSync(path.join(dir, "out.log"), "before\n");
    const r = await run({
      command: "echo out; echo err >&2",
      dir,
      stdoutFile: "out.log",
      stderrFile: `${dir}/err.log`,
    });
    expect(r.done.exitCode).toBe(0);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("err\n");
    expect(readFileSync(path.join(dir, "out.log"), "utf8")).toBe("before\nout\n");
    expect(readFileSync(path.join(dir, "err.log"), "utf8")).toBe("err\n");
  });

  it("interleaves both streams in one file when both name it", async () => {
    const dir = scratch("same");
    await run({ command: "echo one; echo two >&2; echo three", dir, stdoutFile: "all.log", stderrFile: "all.log" });
    expect(readFileSync(path.join(dir, "all.log"), "utf8").split("\n").sort()).toEqual(["", "one", "three", "two"]);
  });

  it("fails the step without running it when a file cannot be opened", async () => {
    const dir = scratch("badfile");
    const r = await run({ command: `touch ${dir}/ran`, dir, stdoutFile: "no/such/dir/out.log" });
    expect(r.done.exitCode).toBeNull();
    expect(r.done.error).toBe(`cannot open the stdout file ${dir}/no/such/dir/out.log: ENOENT`);
    expect(r.stderr).toContain(`[dagflare runner: cannot open the stdout file ${dir}/no/such/dir/out.log: ENOENT]`);
    expect(() => readFileSync(path.join(dir, "ran"))).toThrow();
  });

  it("reports a missing working directory, not the file it would hold", async () => {
    const r = await run({ command: "echo never", dir: "/no/such/dir", stdoutFile: "out.log" });
    expect(r.done.error).toBe("working directory /no/such/dir does not exist");
  });
});

describe(".env files", () => {
  it("loads the files in order under the step's env, which wins", async () => {
    const dir = scratch("dotenv");
    writeFileSync(path.join(dir, ".env"), "# defaults\nA=from-env-file\nB=base\nexport C='c d'\n");
    writeFileSync(path.join(dir, "more.env"), "B=more-${A}\n");
    const r = await run({
      command: 'echo "$A|$B|$C|$D"',
      env: { D: "from-dag", A: "dag-wins" },
      dotenv: [
        { path: `${dir}/.env`, required: false },
        { path: `${dir}/more.env`, required: true },
      ],
    });
    expect(r.stdout).toBe("dag-wins|more-from-env-file|c d|from-dag\n");
  });

  it("expands env values that name a .env variable, from the file", async () => {
    const dir = scratch("dotenv-ref");
    writeFileSync(path.join(dir, ".env"), "DB_HOST=db.local\n");
    const r = await run({
      command: 'echo "$URL"',
      env: { URL: "http://${DB_HOST}/${NOPE}" },
      shellEnv: ["URL"],
      dotenv: [{ path: `${dir}/.env`, required: true }],
    });
    expect(r.stdout).toBe("http://db.local/${NOPE}\n");
  });

  it("skips a missing file, as Dagu does, saying so in the step's log when the DAG named it", async () => {
    const dir = scratch("dotenv-missing");
    writeFileSync(`${dir}/a-file`, "");
    const quiet = await run({
      command: "echo ran",
      dotenv: [
        { path: `${dir}/.env`, required: false },
        { path: `${dir}/a-file/.env`, required: false },
      ],
    });
    expect(quiet.stdout).toBe("ran\n");
    expect(quiet.stderr).toBe("");
    writeFileSync(`${dir}/there.env`, "FROM_FILE=there\n");
    const named = await run({
      command: "echo ran with $FROM_FILE",
      dotenv: [
        { path: `${dir}/prod.env`, required: true },
        { path: `${dir}/there.env`, required: true },
      ],
    });
    expect(named.done.exitCode).toBe(0);
    expect(named.stdout).toBe("ran with there\n");
    expect(named.stderr).toBe(`[dagflare runner: dotenv file ${dir}/prod.env not found; skipped]\n`);
  });

  it("fails the step on a file it cannot read, saying why", async () => {
    const dir = scratch("dotenv-folder");
    mkdirSync(path.join(dir, ".env"));
    const r = await run({ command: "echo never", dotenv: [{ path: `${dir}/.env`, required: false }] });
    expect(r.done.error).toBe(`dotenv file ${dir}/.env: EISDIR`);
    expect(r.stdout).toBe("");
  });

  it("fails the step on a malformed file, naming the line", async () => {
    const dir = scratch("dotenv-bad");
    writeFileSync(path.join(dir, ".env"), "A=1\nnot a pair\n");
    const r = await run({ command: "echo never", dotenv: [{ path: `${dir}/.env`, required: false }] });
    expect(r.done.error).toBe(`dotenv file ${dir}/.env, line 2: expected KEY=value`);
    expect(r.stdout).toBe("");
  });

  it("never hands the runner's token to a step through a .env file", async () => {
    const dir = scratch("dotenv-token");
    writeFileSync(path.join(dir, ".env"), "DAGFLARE_RUNNER_TOKEN=stolen\nOK=1\n");
    const r = await run({
      command: 'echo "${DAGFLARE_RUNNER_TOKEN:-none} $OK"',
      dotenv: [{ path: `${dir}/.env`, required: true }],
    });
    expect(r.stdout).toBe("none 1\n");
  });

  it("gives preconditions the variables of the .env files", async () => {
    const dir = scratch("dotenv-cond");
    writeFileSync(path.join(dir, ".env"), "MODE=prod\n");
    const r = await run({
      command: "echo ran",
      dotenv: [{ path: `${dir}/.env`, required: true }],
      preconditions: [{ condition: "$MODE", expected: "dev" }],
    });
    expect(r.done.preconditionUnmet).toBe('"$MODE" gave "prod", expected "dev"');
  });
});

describe("secrets", () => {
  const SECRET = "pa55-w0rd-xyz";

  it("gives a step the runner's env variable and masks it in the log, the files and the output", async () => {
    const dir = scratch("secret-env");
    process.env.RUNNER_TEST_SECRET = SECRET;
    try {
      const r = await run({
        command: 'echo "token=$TOKEN"; echo "$TOKEN" >&2; test "$TOKEN" = pa55-w0rd-xyz && echo same',
        dir,
        output: "OUT",
        stdoutFile: "out.log",
        secrets: [{ name: "TOKEN", provider: "env", key: "RUNNER_TEST_SECRET" }],
      });
      expect(r.stdout).toBe("token=*****\nsame\n");
      expect(r.stderr).toBe("*****\n");
      expect(r.done.output).toBe("token=*****\nsame");
      expect(readFileSync(path.join(dir, "out.log"), "utf8")).toBe("token=*****\nsame\n");
    } finally {
      delete process.env.RUNNER_TEST_SECRET;
    }
  });

  it("reads a file secret without its final newline, and expands env values that use it", async () => {
    const dir = scratch("secret-file");
    writeFileSync(path.join(dir, "token"), `${SECRET}\n`);
    const r = await run({
      command: 'printf "%s" "$AUTH" | wc -c; echo "$AUTH"',
      env: { AUTH: "Bearer ${TOKEN}" },
      shellEnv: ["AUTH"],
      secrets: [{ name: "TOKEN", provider: "file", key: `${dir}/token` }],
    });
    expect(r.stdout).toBe(`${"Bearer ".length + SECRET.length}\nBearer *****\n`);
  });

  it("masks a secret in the runner's notes and in the reason a step was skipped", async () => {
    process.env.RUNNER_TEST_SECRET = SECRET;
    try {
      const r = await run({
        command: "echo never",
        preconditions: [{ condition: "$TOKEN", expected: "other" }],
        secrets: [{ name: "TOKEN", provider: "env", key: "RUNNER_TEST_SECRET" }],
      });
      expect(r.done.preconditionUnmet).toBe('"$TOKEN" gave "*****", expected "other"');
      expect(r.stderr).toContain('gave "*****"');
      expect(r.stderr).not.toContain(SECRET);
    } finally {
      delete process.env.RUNNER_TEST_SECRET;
    }
  });

  it.each([
    [
      "an env variable the runner does not have",
      { name: "TOKEN", provider: "env" as const, key: "RUNNER_TEST_UNSET" },
      "secret TOKEN: RUNNER_TEST_UNSET is not set in the runner's environment",
    ],
    [
      "a file that does not exist",
      { name: "TOKEN", provider: "file" as const, key: "/no/such/secret" },
      "secret TOKEN: cannot read /no/such/secret: ENOENT",
    ],
    [
      "the runner's own token",
      { name: "TOKEN", provider: "env" as const, key: "DAGFLARE_RUNNER_TOKEN" },
      "secret TOKEN: DAGFLARE_RUNNER_TOKEN is the runner's own credential",
    ],
  ])("fails the step without running it on %s", async (_label, secret, error) => {
    const dir = scratch("secret-bad");
    const r = await run({ command: `touch ${dir}/ran`, secrets: [secret] });
    expect(r.done.exitCode).toBeNull();
    expect(r.done.error).toBe(error);
    expect(r.stderr).toBe(`[dagflare runner: ${error}]\n`);
    expect(() => readFileSync(path.join(dir, "ran"))).toThrow();
  });
});
