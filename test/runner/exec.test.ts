import { mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { StepRun } from "../../runner/src/exec.ts";
import { FakeServer, makeLease, until } from "./fake-server";

let server: FakeServer;
let client: RunnerClient;
const lines: string[] = [];

beforeAll(async () => {
  server = await new FakeServer().start();
  client = new RunnerClient({ server: server.url, log: (l) => lines.push(l), backoff: { firstMs: 10, maxMs: 50 } });
});
afterAll(() => server.stop());

async function run(exec: Parameters<typeof makeLease>[0]) {
  const lease = makeLease(exec);
  const step = new StepRun(lease, { client, log: (l) => lines.push(l) });
  await step.execute();
  const done = server.completions.find((c) => c.leaseId === lease.leaseId);
  if (!done) throw new Error("no completion");
  return {
    lease,
    step,
    done: done.body,
    stdout: server.logText(lease.leaseId),
    stderr: server.logText(lease.leaseId, "stderr"),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("running one step", () => {
  it("reports the exit code and streams stdout and stderr separately", async () => {
    const r = await run({ command: "echo out; echo err >&2; exit 3" });
    expect(r.done).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("err\n");
    expect(r.done.lastLogSeq).toBeGreaterThanOrEqual(1);
  });

  it("passes positional params as $1, $2 and the step env", async () => {
    const r = await run({ command: 'echo "$1|$2|$GREETING"', args: ["a b", "c"], env: { GREETING: "hi" } });
    expect(r.stdout).toBe("a b|c|hi\n");
  });

  it("runs in the step's directory", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "runner-dir-")));
    const r = await run({ command: "pwd", dir });
    expect(r.stdout).toBe(`${dir}\n`);
  });

  it("reports a missing directory as a step error without running anything", async () => {
    const r = await run({ command: "echo never", dir: "/no/such/dir" });
    expect(r.done.exitCode).toBeNull();
    expect(r.done.error).toMatch(/does not exist/);
    expect(r.stdout).toBe("");
  });

  it("runs a script through the shell, with params", async () => {
    const r = await run({ script: 'echo "script got $1"\nexit 0\n', args: ["x"] });
    expect(r.done.exitCode).toBe(0);
    expect(r.stdout).toBe("script got x\n");
  });

  it("runs a script with the command as its interpreter", async () => {
    const r = await run({ command: "node", script: "console.log(process.argv.length > 1 ? 'node ran it' : 'no')" });
    expect(r.stdout).toBe("node ran it\n");
  });

  it("captures the output variable, trimmed, and cuts it at the limit saying so", async () => {
    const short = await run({ command: "echo value; echo", output: "OUT" });
    expect(short.done).toMatchObject({ output: "value", outputTruncated: false });
    const long = await run({ command: "printf 0123456789", output: "OUT", maxOutputBytes: 4 });
    expect(long.done).toMatchObject({ output: "0123", outputTruncated: true });
    expect(long.stderr).toMatch(/output OUT cut at 4 bytes/);
  });

  it("keeps the order of many small writes", async () => {
    const r = await run({ command: "i=1; while [ $i -le 300 ]; do echo line$i; i=$((i+1)); done" });
    const got = r.stdout.trim().split("\n");
    expect(got).toHaveLength(300);
    expect(got[0]).toBe("line1");
    expect(got[299]).toBe("line300");
    const seqs = (server.logs.get(r.lease.leaseId) ?? []).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("kills the whole process group at the timeout and reports timedOut", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "runner-timeout-"));
    const r = await run({ command: `sleep 30 & echo $! > ${dir}/child; wait`, timeoutSec: 1 });
    expect(r.done).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM" });
    const child = Number(readFileSync(path.join(dir, "child"), "utf8"));
    await until(() => !alive(child), 3_000);
  });

  it("kills the process group when the server cancels the step", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "runner-cancel-"));
    const lease = makeLease({ command: `sleep 30 & echo $! > ${dir}/child; wait` }, { heartbeatIntervalMs: 100 });
    const step = new StepRun(lease, { client, log: () => {} });
    const done = step.execute();
    await until(() => server.calls.some((c) => c.path.includes(lease.leaseId) && c.path.endsWith("heartbeat")));
    server.cancel.add(lease.leaseId);
    await done;
    const completion = server.completions.find((c) => c.leaseId === lease.leaseId)?.body;
    expect(completion).toMatchObject({ cancelled: true });
    const child = Number(readFileSync(path.join(dir, "child"), "utf8"));
    await until(() => !alive(child), 3_000);
  });

  it("kills the process and reports nothing when the lease is no longer current", async () => {
    const lease = makeLease({ command: "sleep 30" }, { heartbeatIntervalMs: 100 });
    server.lost.add(lease.leaseId);
    const started = Date.now();
    await new StepRun(lease, { client, log: () => {} }).execute();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.completions.some((c) => c.leaseId === lease.leaseId)).toBe(false);
  });

  it("retries its calls while the server answers 503", async () => {
    server.failNext = { status: 503, count: 3 };
    const r = await run({ command: "echo after the outage" });
    expect(r.stdout).toBe("after the outage\n");
    expect(r.done.exitCode).toBe(0);
  });
});
