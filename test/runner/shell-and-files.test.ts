// The runner's choice of shell and interpreter, and the files a step's DAG_RUN_*_FILE variables
// name on the runner's host.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { parseConfig } from "../../runner/src/config.ts";
import { StepRun } from "../../runner/src/exec.ts";
import { RunFiles } from "../../runner/src/run-files.ts";
import type { Lease } from "../../src/shared/protocol";
import { FakeServer, makeLease } from "./fake-server";

let server: FakeServer;
let client: RunnerClient;
const runnerLog: string[] = [];
const savedShell = process.env.SHELL;

beforeAll(async () => {
  server = await new FakeServer().start();
  client = new RunnerClient({ server: server.url, token: "", log: (l) => runnerLog.push(l) });
});
afterAll(() => server.stop());
afterEach(() => {
  if (savedShell === undefined) delete process.env.SHELL;
  else process.env.SHELL = savedShell;
});

const temp = (prefix: string) => realpathSync(mkdtempSync(path.join(tmpdir(), `runner-${prefix}-`)));

async function run(exec: Partial<Lease["exec"]>, runFiles?: RunFiles, over: Partial<Lease> = {}) {
  const lease = makeLease(exec, over);
  await new StepRun(lease, { client, log: (l) => runnerLog.push(l), runFiles }).execute();
  const done = server.completions.get(lease.leaseId);
  if (!done) throw new Error("no completion");
  return { lease, done, stdout: server.logText(lease.leaseId), stderr: server.logText(lease.leaseId, "stderr") };
}

/** A shell that says it ran, then hands the command to sh. */
function wrapperShell(): string {
  const file = path.join(temp("shell"), "my-shell");
  writeFileSync(file, '#!/bin/sh\necho "via my-shell"\nexec /bin/sh "$@"\n');
  chmodSync(file, 0o755);
  return file;
}

describe("the shell a step runs with", () => {
  it("is the runner host's $SHELL when neither the step nor its DAG names one", async () => {
    process.env.SHELL = wrapperShell();
    const r = await run({ shell: [], command: "echo hi" });
    expect(r.stdout).toBe("via my-shell\nhi\n");
  });

  it("is sh when the runner has no $SHELL", async () => {
    delete process.env.SHELL;
    const r = await run({ shell: [], command: 'readlink "/proc/$$/exe"; echo done' });
    expect(r.stdout).toBe(`${realpathSync("/bin/sh")}\ndone\n`);
  });

  it("is the one the server names over the host's $SHELL", async () => {
    process.env.SHELL = wrapperShell();
    const r = await run({ shell: ["sh"], command: "echo hi" });
    expect(r.stdout).toBe("hi\n");
  });

  it("gives way to the interpreter of the script's #! line, which gets the script file and the args", async () => {
    process.env.SHELL = wrapperShell();
    const r = await run({
      shell: [],
      interpreter: [process.execPath],
      script: "#!/usr/bin/env node\nconsole.log(process.argv.slice(2).join('|'))\n",
      args: ["a", "b c"],
    });
    expect(r.stdout).toBe("a|b c\n");
  });

  it("runs preconditions with the host's $SHELL too", async () => {
    process.env.SHELL = wrapperShell();
    const r = await run({ shell: [], command: "echo ran", preconditions: [{ condition: "true" }] });
    expect(r.done.preconditionUnmet).toBeUndefined();
    expect(r.stdout).toBe("via my-shell\nran\n");
  });
});

describe("stdout and stderr paths written with backticks", () => {
  it("are expanded on the runner with the step's shell and env before the files are opened", async () => {
    const dir = temp("paths");
    const r = await run({
      command: "echo to-the-file",
      dir,
      env: { NAME: "job" },
      stdoutFile: "${NAME}-`echo today`.out",
      shellFiles: ["stdout"],
    });
    expect(r.done.exitCode).toBe(0);
    expect(readFileSync(path.join(dir, "job-today.out"), "utf8")).toBe("to-the-file\n");
  });

  it("fail the step, saying which, when a command in them fails", async () => {
    const r = await run({ command: "echo never", stdoutFile: "`exit 4`.out", shellFiles: ["stdout"] });
    expect(r.done.error).toBe("stdout file `exit 4`.out: command substitution failed (`exit 4` exited with 4)");
    expect(r.stdout).toBe("");
  });
});

describe("a run's files on the runner's host", () => {
  it("name the step's own stdout and stderr and the run's log in DAG_RUN_*_FILE", async () => {
    const files = new RunFiles({ dir: temp("logs") });
    const r = await run(
      {
        command:
          'echo out; echo err >&2; echo "$DAG_RUN_LOG_FILE|$DAG_RUN_STEP_STDOUT_FILE|$DAG_RUN_STEP_STDERR_FILE" >&2',
      },
      files,
      { dagName: "etl", runId: "r-1", leaseId: "r-1.3.7", stepName: "load data" },
    );
    const runDir = path.join(files.dir, "etl", "r-1");
    const [runLog, stdout, stderr] = [
      path.join(runDir, "run.log"),
      path.join(runDir, "load_data.3.7.out"),
      path.join(runDir, "load_data.3.7.err"),
    ];
    expect(r.stderr).toBe(`err\n${runLog}|${stdout}|${stderr}\n`);
    expect(readFileSync(stdout, "utf8")).toBe("out\n");
    expect(readFileSync(stderr, "utf8")).toBe(`err\n${runLog}|${stdout}|${stderr}\n`);
    expect(r.done).toMatchObject({ stdoutPath: stdout, stderrPath: stderr });
  });

  it("are left open by no step once it ended: run, unable to start, or failed before its process", async () => {
    const files = new RunFiles({ dir: temp("logs") });
    const openStepFiles = () =>
      readdirSync("/proc/self/fd").flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(files.dir) && /\.(out|err)$/.test(target) ? [target] : [];
        } catch {
          // The descriptor readdir itself used, closed since.
          return [];
        }
      });
    const steps: Array<Partial<Lease["exec"]>> = [
      { command: "echo ran" },
      { command: "echo never", dir: "/no/such/dir" },
      { command: "echo never", stdoutFile: "/no/such/dir/out.txt" },
      { command: "echo never", secrets: [{ name: "S", provider: "env", key: "RUNNER_TEST_UNSET_SECRET" }] },
    ];
    for (const [i, exec] of steps.entries()) {
      await run(exec, files, { dagName: "etl", runId: "r-fd", leaseId: `r-fd.${i}.1`, stepName: `s${i}` });
    }
    expect(existsSync(path.join(files.dir, "etl", "r-fd", "s3.3.1.err"))).toBe(true);
    expect(openStepFiles()).toEqual([]);
  });

  it("keep in the run's log what this runner did with the run's steps", async () => {
    const files = new RunFiles({ dir: temp("logs") });
    const lease = { dagName: "etl", runId: "r-2", leaseId: "r-2.0.1", stepName: "a" };
    await run({ command: "exit 0" }, files, lease);
    await run({ command: "exit 5" }, files, { ...lease, leaseId: "r-2.1.1", stepName: "b" });
    const log = readFileSync(path.join(files.dir, "etl", "r-2", "run.log"), "utf8");
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT.* etl\/a#1 \(lease r-2\.0\.1\): started pid \d+$/m);
    expect(log).toMatch(/ etl\/a#1 \(lease r-2\.0\.1\): exited with 0$/m);
    expect(log).toMatch(/ etl\/b#1 \(lease r-2\.1\.1\): exited with 5$/m);
    expect(log).toMatch(/ etl\/b#1 \(lease r-2\.1\.1\): completion accepted$/m);
  });

  it("are made again, the run's log too, for the next step of a run whose folder was removed while it ran here", () => {
    const files = new RunFiles({ dir: temp("logs") });
    const lease = (leaseId: string) => makeLease({}, { dagName: "etl", runId: "r-3", leaseId, stepName: "a" });
    const [first, second] = [lease("r-3.0.1"), lease("r-3.1.1")];
    const created = files.create(first);
    if ("error" in created) throw new Error(created.error);
    rmSync(path.dirname(created.runLog), { recursive: true });
    const again = files.create(second);
    if ("error" in again) throw new Error(again.error);
    files.note(second, "after the folder came back");
    expect(existsSync(again.stdout) && existsSync(again.stderr)).toBe(true);
    expect(readFileSync(again.runLog, "utf8")).toMatch(/ after the folder came back\n$/);
  });

  it("are removed once nothing was written to the run for the retention, unless a step of it runs here", () => {
    const files = new RunFiles({ dir: temp("logs"), retentionDays: 7 });
    const lease = (runId: string) => makeLease({}, { dagName: "etl", runId, leaseId: `${runId}.0.1` });
    const [old, fresh, running] = [lease("old"), lease("fresh"), lease("running")];
    const now = Date.now();
    const eightDaysAgo = (now - 8 * 86_400_000) / 1000;
    for (const l of [old, fresh, running]) {
      const created = files.create(l);
      if ("error" in created) throw new Error(created.error);
      if (l !== fresh) {
        for (const f of Object.values(created)) utimesSync(f, eightDaysAgo, eightDaysAgo);
        utimesSync(path.dirname(created.runLog), eightDaysAgo, eightDaysAgo);
      }
      if (l !== running) files.release(l);
    }
    const { removed } = files.sweep(now);
    expect(removed).toEqual([path.join(files.dir, "etl", "old")]);
    expect(existsSync(path.join(files.dir, "etl", "fresh"))).toBe(true);
    expect(existsSync(path.join(files.dir, "etl", "running"))).toBe(true);
  });

  it("go under --log-dir, else $DAGFLARE_RUNNER_LOG_DIR, else systemd's $LOGS_DIRECTORY, else the XDG state directory", () => {
    const dirOf = (argv: string[], env: Record<string, string>) => {
      const c = parseConfig(argv, env);
      if (c === "help") throw new Error("help");
      return c.logDir;
    };
    expect(dirOf(["--log-dir", "/srv/logs"], { DAGFLARE_RUNNER_LOG_DIR: "/x" })).toBe("/srv/logs");
    expect(dirOf([], { DAGFLARE_RUNNER_LOG_DIR: "/x", LOGS_DIRECTORY: "/var/log/r" })).toBe("/x");
    expect(dirOf([], { LOGS_DIRECTORY: "/var/log/r:/var/log/other" })).toBe("/var/log/r");
    expect(dirOf([], { XDG_STATE_HOME: "/st", HOME: "/h" })).toBe("/st/dagflare-runner/logs");
    expect(dirOf([], { HOME: "/h" })).toBe("/h/.local/state/dagflare-runner/logs");
  });

  it("refuses a retention that is not a whole number of days from 1 to 3650", () => {
    expect(() => parseConfig(["--log-retention-days", "0"], {})).toThrow(/--log-retention-days "0" must be/);
    expect(() => parseConfig(["--log-retention-days", "1.5"], {})).toThrow(/from 1 to 3650/);
    expect(parseConfig(["--log-retention-days", "30"], {})).toMatchObject({ logRetentionDays: 30 });
  });
});
