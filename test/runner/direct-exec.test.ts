// A simple command is exec'd without the shell (runner/src/direct-exec.ts), through both
// launchers, and the step sees what the shell would have given it. `$SHELL` points at a bash that
// first writes a line to a log: an empty log is a step the shell did not start.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { setShellAlways } from "../../runner/src/direct-exec.ts";
import { StepRun } from "../../runner/src/exec.ts";
import { resetHelper, setLauncher } from "../../runner/src/launch.ts";
import type { Lease } from "../../src/shared/protocol";
import { FakeServer, groupAlive, makeLease } from "./fake-server";

const dir = mkdtempSync(path.join(tmpdir(), "direct-exec-"));
const shellLog = path.join(dir, "shell.log");
/** A "bash" (what the runner resolves `$SHELL` to) that notes each start, then is bash. */
const loggingBash = path.join(dir, "shells", "bash");
mkdirSync(path.dirname(loggingBash));
writeFileSync(loggingBash, `#!/bin/sh\necho started >> ${shellLog}\nexec /usr/bin/bash "$@"\n`, { mode: 0o755 });
/** A script that says its arguments and exits 3. */
writeFileSync(path.join(dir, "prog"), '#!/bin/sh\necho "args: $*"\nexit 3\n', { mode: 0o755 });
writeFileSync(path.join(dir, "plain"), "#!/bin/sh\necho never\n", { mode: 0o644 });
const workDir = path.join(dir, "work");
mkdirSync(workDir);
symlinkSync(workDir, path.join(dir, "link"));

let server: FakeServer;
let client: RunnerClient;
const savedShell = process.env.SHELL;

beforeAll(async () => {
  server = await new FakeServer().start();
  client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff: { firstMs: 10, maxMs: 50 } });
});
afterAll(() => {
  server.stop();
  process.env.SHELL = savedShell;
});
afterEach(() => {
  setLauncher("helper");
  resetHelper();
  setShellAlways(false);
  process.env.SHELL = loggingBash;
  writeFileSync(shellLog, "");
});
process.env.SHELL = loggingBash;

/** Runs `command` as a step with no shell of its own; what it wrote, how it ended, and whether the shell ran. */
async function run(command: string, exec: Partial<Lease["exec"]> = {}) {
  writeFileSync(shellLog, "");
  const lease = makeLease({ shell: [], command, ...exec });
  await new StepRun(lease, { client, log: () => {} }).execute();
  const done = server.completions.get(lease.leaseId);
  if (!done) throw new Error("no completion");
  return {
    done,
    stdout: server.logText(lease.leaseId),
    stderr: server.logText(lease.leaseId, "stderr"),
    shellRan: readFileSync(shellLog, "utf8") !== "",
  };
}

describe.each(["posix-spawn", "helper", "spawn"] as const)("through the %s launcher", (launcher) => {
  afterEach(() => setLauncher(launcher));
  const use = () => setLauncher(launcher);

  it("runs a simple command without the shell, with its output and exit code", async () => {
    use();
    const r = await run(`${dir}/prog a b`, { args: ["ignored"] });
    expect(r).toMatchObject({ stdout: "args: a b\n", done: { exitCode: 3 }, shellRan: false });
  });

  it("answers a command that is not found with 127 and the shell's message", async () => {
    use();
    const r = await run("no-such-command-here --flag");
    expect(r).toMatchObject({ done: { exitCode: 127 }, shellRan: false });
    expect(r.done.error).toBeUndefined();
    expect(r.stderr).toBe("dagflare: no-such-command-here: command not found\n");
  });

  it("answers a path that does not exist with 127 and says why", async () => {
    use();
    const r = await run(`${dir}/missing`);
    expect(r).toMatchObject({ done: { exitCode: 127 }, shellRan: false });
    expect(r.stderr).toBe(`dagflare: ${dir}/missing: No such file or directory\n`);
  });

  it("answers a file that is not executable with 126 and says why", async () => {
    use();
    const r = await run(`${dir}/plain`);
    expect(r).toMatchObject({ done: { exitCode: 126 }, shellRan: false });
    expect(r.stderr).toBe(`dagflare: ${dir}/plain: Permission denied\n`);
  });

  it.each([
    ["echo $HOME", `${process.env.HOME}\n`],
    ["/bin/echo a && /bin/echo b", "a\nb\n"],
    ["x=1 /usr/bin/printenv x", "1\n"],
    ["/bin/echo *.none", "*.none\n"],
  ])("keeps the shell for shell syntax: %j", async (command, stdout) => {
    use();
    expect(await run(command)).toMatchObject({ stdout, shellRan: true });
  });

  it.each([
    ["true", ""],
    ["echo -e a", "a\n"],
  ])("keeps the shell for the builtin in %j", async (command, stdout) => {
    use();
    expect(await run(command)).toMatchObject({ stdout, done: { exitCode: 0 }, shellRan: true });
  });

  it("always uses a shell the step names", async () => {
    use();
    expect(await run("/bin/echo hi", { shell: [loggingBash] })).toMatchObject({ stdout: "hi\n", shellRan: true });
  });

  it("runs every step through its shell with --shell-always", async () => {
    use();
    setShellAlways(true);
    expect(await run("/bin/echo hi")).toMatchObject({ stdout: "hi\n", shellRan: true });
  });

  it("stops a directly exec'd sleep and its whole group at the timeout", async () => {
    use();
    writeFileSync(shellLog, "");
    const lines: string[] = [];
    const lease = makeLease({ shell: [], command: "sleep 30", timeoutSec: 1 });
    await new StepRun(lease, { client, log: (l) => lines.push(l), killGraceMs: 200 }).execute();
    const pid = Number(lines.join("\n").match(/started pid (\d+)/)?.[1]);
    expect(server.completions.get(lease.leaseId)).toMatchObject({ timedOut: true, signal: "SIGTERM" });
    expect(groupAlive(pid)).toBe(false);
    expect(readFileSync(shellLog, "utf8")).toBe("");
  });

  it.each([
    ["bash", "/usr/bin/bash"],
    ["dash", "/usr/bin/dash"],
  ])("gives the program the argv and environment %s would give it", async (_name, shell) => {
    use();
    process.env.SHELL = shell;
    // A working directory reached through a link, an env PWD naming another directory, and a
    // name dash does not pass on, a stale `$_`: what each shell sets or drops, the direct exec
    // must too.
    const exec = { dir: path.join(dir, "link"), env: { OLDPWD: "/no/such/dir", "ODD-NAME": "1", _: "/stale" } };
    const direct = await run("/usr/bin/env", exec);
    const argv = await run("cat /proc/self/cmdline", exec);
    setShellAlways(true);
    const shelled = await run("/usr/bin/env", exec);
    const shelledArgv = await run("cat /proc/self/cmdline", exec);
    const sorted = (text: string) =>
      text
        .split("\n")
        .filter((l) => !l.startsWith("DAGFLARE_"))
        .sort();
    expect(sorted(direct.stdout)).toEqual(sorted(shelled.stdout));
    expect(argv.stdout).toBe(shelledArgv.stdout);
    expect(direct.stdout).toContain(`PWD=${workDir}\n`);
  });
});
