import { existsSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { StepRun, type StepRunOptions } from "../../runner/src/exec.ts";
import type { Lease } from "../../src/shared/protocol";
import { FakeServer, groupAlive, makeLease, until } from "./fake-server";

let server: FakeServer;
let client: RunnerClient;
const runnerLog: string[] = [];
const backoff = { firstMs: 10, maxMs: 50 };

beforeAll(async () => {
  server = await new FakeServer().start();
  client = new RunnerClient({ server: server.url, token: "", log: (l) => runnerLog.push(l), backoff });
});
afterAll(() => server.stop());
afterEach(() => {
  server.failNext = { status: 0, count: 0 };
});

function stepRun(lease: Lease, opts: Partial<StepRunOptions> = {}) {
  return new StepRun(lease, { client, log: (l) => runnerLog.push(l), backoff, ...opts });
}

async function run(exec: Partial<Lease["exec"]>, over: Partial<Lease> = {}, opts: Partial<StepRunOptions> = {}) {
  const lease = makeLease(exec, over);
  await stepRun(lease, opts).execute();
  const done = server.completions.get(lease.leaseId);
  if (!done) throw new Error("no completion");
  return {
    lease,
    done,
    stdout: server.logText(lease.leaseId),
    stderr: server.logText(lease.leaseId, "stderr"),
    entries: server.logs.get(lease.leaseId) ?? [],
  };
}

/** A command prefix that records the step's process group id ($$ of its leader) in a file. */
function recordPgid(): { prefix: string; pgid: () => number } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "runner-pgid-")), "pgid");
  return { prefix: `echo $$ > ${file};`, pgid: () => Number(readFileSync(file, "utf8")) };
}

describe("a step's process", () => {
  it("reports the exit code and streams stdout and stderr separately", async () => {
    const r = await run({ command: "echo out; echo err >&2; exit 3" });
    expect(r.done).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("err\n");
  });

  it("sees the step's args as $1, $2, ... with spaces kept", async () => {
    const r = await run({ command: 'printf "%s|" "$@"; echo "$#"', args: ["a b", "c", ""] });
    expect(r.stdout).toBe("a b|c||3\n");
  });

  it("gets the runner's environment plus the step's env, without the runner token", async () => {
    process.env.DAGFLARE_RUNNER_TOKEN = "secret";
    process.env.FROM_RUNNER = "runner";
    try {
      const r = await run({
        command: 'echo "$FROM_RUNNER|$GREETING|${DAGFLARE_RUNNER_TOKEN-unset}"',
        env: { GREETING: "hi" },
      });
      expect(r.stdout).toBe("runner|hi|unset\n");
    } finally {
      delete process.env.DAGFLARE_RUNNER_TOKEN;
      delete process.env.FROM_RUNNER;
    }
  });

  it("runs in the step's dir", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "runner-dir-")));
    const r = await run({ command: "pwd", dir });
    expect(r.stdout).toBe(`${dir}\n`);
  });

  it("resolves a relative dir against the runner's working directory", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "runner-rel-")));
    const r = await run({ command: "pwd", dir: path.relative(process.cwd(), dir) });
    expect(r.stdout).toBe(`${dir}\n`);
  });

  it("expands ~ and the variables the server left in dir from the runner's environment", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "runner-var-")));
    process.env.RUNNER_TEST_BASE = path.dirname(dir);
    try {
      const r = await run({ command: "pwd", dir: `\${RUNNER_TEST_BASE}/${path.basename(dir)}` });
      expect(r.stdout).toBe(`${dir}\n`);
    } finally {
      delete process.env.RUNNER_TEST_BASE;
    }
    const home = await run({ command: "pwd", dir: "~" });
    expect(home.stdout).toBe(`${realpathSync(homedir())}\n`);
  });

  it("reports a missing dir as a step error with a null exit code, running nothing", async () => {
    const r = await run({ command: "echo never", dir: "/no/such/dir" });
    expect(r.done.exitCode).toBeNull();
    expect(r.done.error).toMatch(/\/no\/such\/dir does not exist/);
    expect(r.stdout).toBe("");
  });

  it("reports a shell that cannot be started as a step error", async () => {
    const r = await run({ command: "true", shell: ["/no/such/shell"] });
    expect(r.done.exitCode).toBeNull();
    expect(r.done.error).toMatch(/could not start \/no\/such\/shell/);
  });

  it("runs a script through the shell with the args as $1, $2", async () => {
    const r = await run({ script: 'echo "script got $1 and $2"\nexit 4\n', args: ["x", "y"] });
    expect(r.done.exitCode).toBe(4);
    expect(r.stdout).toBe("script got x and y\n");
  });

  it("writes the script to a private file and removes it afterwards", async () => {
    const r = await run({ script: 'echo "$0"; ls -l "$0" | cut -c1-10\n' });
    const [file, mode] = r.stdout.trim().split("\n");
    expect(mode).toBe("-rwx------");
    expect(existsSync(file as string)).toBe(false);
  });

  it("runs a script with the command as its interpreter", async () => {
    const r = await run({
      command: "node",
      script: "console.log(require('node:path').basename(process.argv[1]), process.argv.slice(2).join(','))",
      args: ["a", "b"],
    });
    expect(r.stdout).toBe("script a,b\n");
  });

  it("reports the start and exit times of the process", async () => {
    const before = Date.now();
    const r = await run({ command: "true" });
    expect(r.done.processStartedAt).toBeGreaterThanOrEqual(before);
    expect(r.done.processExitedAt).toBeGreaterThanOrEqual(r.done.processStartedAt as number);
  });
});

describe("the output variable", () => {
  it("captures stdout with trailing whitespace and newlines trimmed", async () => {
    const r = await run({ command: "printf '  value  \\n\\n'; echo err >&2", output: "OUT" });
    expect(r.done).toMatchObject({ output: "  value", outputTruncated: false });
  });

  it("is cut at maxOutputBytes, on a character boundary, and the log says so", async () => {
    const r = await run({ command: "printf 'abcé'", output: "OUT", maxOutputBytes: 4 });
    expect(r.done).toMatchObject({ output: "abc", outputTruncated: true });
    expect(r.stdout).toBe("abcé");
    expect(r.stderr).toMatch(/output OUT cut at 4 bytes/);
  });

  it("is absent when the step does not ask for one", async () => {
    const r = await run({ command: "echo x" });
    expect(r.done.output).toBeUndefined();
  });
});

describe("log streaming", () => {
  it("numbers entries 1, 2, 3, ... and reports the last seq", async () => {
    const r = await run({ command: "i=1; while [ $i -le 300 ]; do echo line$i; i=$((i+1)); done" });
    const lines = r.stdout.trim().split("\n");
    expect(lines).toEqual(Array.from({ length: 300 }, (_, i) => `line${i + 1}`));
    expect(r.entries.map((e) => e.seq)).toEqual(r.entries.map((_, i) => i + 1));
    expect(r.done.lastLogSeq).toBe(r.entries.length);
  });

  it("keeps the order of writes across stdout and stderr", async () => {
    const r = await run({ command: "echo a; sleep 0.05; echo b >&2; sleep 0.05; echo c; sleep 0.05; echo d >&2" });
    expect(r.entries.map((e) => `${e.stream}:${e.text}`)).toEqual([
      "stdout:a\n",
      "stderr:b\n",
      "stdout:c\n",
      "stderr:d\n",
    ]);
  });

  it("splits large output into batches of at most 256 KiB", async () => {
    const r = await run({ command: "head -c 1000000 /dev/zero | tr '\\0' x" });
    expect(r.stdout).toHaveLength(1_000_000);
    const batches = server.callsTo(`/leases/${r.lease.leaseId}/logs`);
    for (const b of batches) {
      const bytes = b.body.entries.reduce((n: number, e: { text: string }) => n + Buffer.byteLength(e.text), 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it("reports lastLogSeq 0 when the step printed nothing", async () => {
    const r = await run({ command: "true" });
    expect(r.done.lastLogSeq).toBe(0);
    expect(server.callsTo(`/leases/${r.lease.leaseId}/logs`)).toEqual([]);
  });
});

// Concurrent: each test waits for the kernel to reap a killed group, which is slow on some hosts.
describe.concurrent("stopping a step", () => {
  it("kills the whole process group at the timeout and reports timedOut", async () => {
    const g = recordPgid();
    const r = await run({ command: `${g.prefix} sleep 30 & wait`, timeoutSec: 1 });
    expect(r.done).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: "SIGTERM" });
    await until(() => !groupAlive(g.pgid()), 5_000);
  });

  it("sends SIGKILL after the grace period to a group that ignores SIGTERM", async () => {
    const g = recordPgid();
    const r = await run(
      { command: `trap '' TERM; ${g.prefix} sleep 30 & wait`, timeoutSec: 1 },
      {},
      { killGraceMs: 200 },
    );
    expect(r.done).toMatchObject({ timedOut: true, signal: "SIGKILL" });
    await until(() => !groupAlive(g.pgid()), 5_000);
  });

  it.each([
    [1, { signal: "SIGKILL", exitCode: null }, false],
    [10, { signal: null, exitCode: 1 }, true],
  ])("gives a stopped step the DAG's clean-up time (%i s) before SIGKILL", async (cleanUpSec, end, cleanedUp) => {
    const dir = mkdtempSync(path.join(tmpdir(), "runner-cleanup-"));
    const r = await run(
      { command: `trap 'sleep 2; touch ${dir}/cleaned; exit 1' TERM; sleep 30 & wait`, timeoutSec: 1, cleanUpSec },
      {},
      { killGraceMs: 60_000 },
    );
    expect(r.done).toMatchObject({ timedOut: true, ...end });
    expect(existsSync(path.join(dir, "cleaned"))).toBe(cleanedUp);
  });

  it("ends what the step left running in its group when the step exits", async () => {
    const g = recordPgid();
    const r = await run({ command: `${g.prefix} sleep 30 >/dev/null 2>&1 &` });
    expect(r.done).toMatchObject({ exitCode: 0, timedOut: false });
    await until(() => !groupAlive(g.pgid()), 5_000);
  });

  it("kills the process group and reports cancelled when a heartbeat says cancel", async () => {
    const g = recordPgid();
    const lease = makeLease({ command: `${g.prefix} echo started; sleep 30 & wait` }, { heartbeatIntervalMs: 100 });
    const done = stepRun(lease).execute();
    await until(() => server.logText(lease.leaseId).includes("started"));
    server.cancelled.add(lease.leaseId);
    await done;
    expect(server.completions.get(lease.leaseId)).toMatchObject({
      cancelled: true,
      timedOut: false,
      signal: "SIGTERM",
    });
    await until(() => !groupAlive(g.pgid()), 5_000);
  });

  it("kills the process group and reports nothing when a heartbeat answers 409", async () => {
    const g = recordPgid();
    const lease = makeLease({ command: `${g.prefix} sleep 30 & wait` }, { heartbeatIntervalMs: 100 });
    server.lost.set(lease.leaseId, ["heartbeat"]);
    await stepRun(lease).execute();
    expect(server.completions.has(lease.leaseId)).toBe(false);
    await until(() => !groupAlive(g.pgid()), 5_000);
  });

  it("kills the process group and reports nothing when a log append answers 409", async () => {
    const g = recordPgid();
    const lease = makeLease({ command: `${g.prefix} echo started; sleep 30 & wait` });
    server.lost.set(lease.leaseId, ["logs"]);
    await stepRun(lease).execute();
    expect(server.completions.has(lease.leaseId)).toBe(false);
    await until(() => !groupAlive(g.pgid()), 5_000);
  });
});

describe("talking to the server", () => {
  it("retries its calls while the server answers 503", async () => {
    server.failNext = { status: 503, count: 4 };
    const r = await run({ command: "echo after the outage" });
    expect(r.stdout).toBe("after the outage\n");
    expect(r.done.exitCode).toBe(0);
  });

  it("confirms the lease with a heartbeat soon after the start, then renews it at a third of the TTL", async () => {
    const lease = makeLease({ command: "sleep 0.9" }, { ttlMs: 600, heartbeatIntervalMs: 1000 });
    server.ttlMs = 600;
    const started = Date.now();
    await stepRun(lease)
      .execute()
      .finally(() => (server.ttlMs = 3000));
    const beats = server.callsTo(`/leases/${lease.leaseId}/heartbeat`).map((c) => c.at - started);
    expect(beats[0]).toBeLessThan(400);
    expect(beats.length).toBeGreaterThanOrEqual(3);
  });

  it("gives up a completion refused with 409 without retrying", async () => {
    const lease = makeLease({ command: "true" });
    server.lost.set(lease.leaseId, ["complete"]);
    expect(await stepRun(lease).execute()).toEqual([]);
    expect(server.callsTo(`/leases/${lease.leaseId}/complete`)).toHaveLength(1);
  });

  it("tells the runner when the server refuses the token", async () => {
    const lease = makeLease({ command: "echo hi" });
    server.failNext = { status: 401, count: 1, suffix: "/logs" };
    let refused: Error | undefined;
    await stepRun(lease, { onAuthError: (err) => (refused = err) }).execute();
    expect(refused?.name).toBe("AuthError");
  });
});
