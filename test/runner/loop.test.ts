import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { LeaseLoop } from "../../runner/src/lease-loop.ts";
import { buildRunner, RUNNER_BUNDLE } from "../../scripts/stack.mjs";
import { FakeServer, makeLease, until } from "./fake-server";

let server: FakeServer;

beforeAll(async () => {
  server = await new FakeServer().start();
  buildRunner();
});
afterAll(() => server.stop());

function cli(args: string[] = []) {
  const child = spawn(process.execPath, [RUNNER_BUNDLE, "--server", server.url, "--concurrency", "2", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (b) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, exited, stderr: () => err };
}

describe("the lease loop", () => {
  it("runs the lease handed back with a completion without asking /lease again", async () => {
    const first = makeLease({ command: "echo first" });
    const second = makeLease({ command: "echo second" });
    server.queue.push(first);
    server.nextQueue.push(second);
    const client = new RunnerClient({ server: server.url, log: () => {} });
    const loop = new LeaseLoop({ client, runnerId: "r1", labels: {}, concurrency: 1, log: () => {}, waitMs: 100 });
    const done = loop.run();
    await until(() => server.completions.some((c) => c.leaseId === second.leaseId));
    loop.drain();
    await done;
    const firstCompletion = server.completions.find((c) => c.leaseId === first.leaseId);
    expect(firstCompletion?.body.next).toEqual({ runnerId: "r1", labels: {}, max: 1 });
    expect(server.logText(second.leaseId)).toBe("second\n");
    const leaseCallsBetween = server.calls
      .slice(
        server.calls.findIndex((c) => c.path === `/leases/${first.leaseId}/complete`),
        server.calls.findIndex((c) => c.path === `/leases/${second.leaseId}/complete`),
      )
      .filter((c) => c.path === "/lease");
    expect(leaseCallsBetween).toEqual([]);
  });
});

describe("the runner command", () => {
  it("drains on SIGTERM: the running step finishes and reports, then the runner exits 0", async () => {
    const lease = makeLease({ command: "sleep 1; echo done" });
    server.queue.push(lease);
    const r = cli();
    await until(() => r.stderr().includes("started pid"));
    r.child.kill("SIGTERM");
    expect(await r.exited).toBe(0);
    const completion = server.completions.find((c) => c.leaseId === lease.leaseId);
    expect(completion?.body).toMatchObject({ exitCode: 0, cancelled: false });
    expect(completion?.body.next).toBeUndefined();
    expect(server.logText(lease.leaseId)).toBe("done\n");
    expect(r.stderr()).toMatch(/draining/);
  });

  it("on a second SIGTERM kills the running step and gives its lease back", async () => {
    const lease = makeLease({ command: "sleep 30" });
    server.queue.push(lease);
    const r = cli();
    await until(() => r.stderr().includes("started pid"));
    r.child.kill("SIGTERM");
    await until(() => r.stderr().includes("draining"));
    r.child.kill("SIGTERM");
    expect(await r.exited).toBe(1);
    expect(server.releases).toContain(lease.leaseId);
  });

  it("exits with a clear message when the server refuses its token", async () => {
    server.failNext = { status: 401, count: 2 };
    const r = cli(["--token", "wrong"]);
    expect(await r.exited).toBe(3);
    expect(r.stderr()).toMatch(/refused the runner token/);
    server.failNext = { status: 0, count: 0 };
  });

  it("refuses bad flags with a usage message", async () => {
    const r = cli(["--concurrency", "zero"]);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toMatch(/--concurrency must be 1..64/);
  });
});
