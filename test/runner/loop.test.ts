import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { LeaseLoop, type LoopOptions } from "../../runner/src/lease-loop.ts";
import { FakeServer, groupAlive, makeLease, until } from "./fake-server";

let server: FakeServer;
const backoff = { firstMs: 10, maxMs: 50 };

// A server per test: a drained runner's abandoned poll must not take the next test's leases.
beforeEach(async () => {
  server = await new FakeServer().start();
});
afterEach(() => server.stop());

function leaseLoop(over: Partial<LoopOptions> = {}) {
  const client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff });
  return new LeaseLoop({
    client,
    runnerId: "r1",
    labels: { os: "linux" },
    concurrency: 2,
    log: () => {},
    waitMs: 25_000,
    backoff,
    ...over,
  });
}

/** /lease calls made from now on. */
function leaseCallsSince(at: number) {
  return server.callsTo("/lease").filter((c) => c.at >= at);
}

describe("the lease loop", () => {
  it("asks /lease for as many leases as it has free slots, waiting 25 s for work", async () => {
    const since = Date.now();
    const loop = leaseLoop({ concurrency: 3 });
    const done = loop.run();
    const lease = makeLease({ command: "sleep 0.3" });
    server.offer(lease);
    await until(() => server.completions.has(lease.leaseId));
    loop.drain();
    await done;
    const calls = leaseCallsSince(since).map((c) => c.body);
    expect(calls[0]).toEqual({ runnerId: "r1", labels: { os: "linux" }, max: 3, waitMs: 25_000 });
    expect(calls[1]?.max).toBe(2);
  });

  it("runs a leased step end to end: logs with contiguous seqs, then a completion with exit code and output", async () => {
    const loop = leaseLoop();
    const done = loop.run();
    const lease = makeLease({
      command: "for i in 1 2 3; do echo out$i; echo err$i >&2; done; echo result; exit 5",
      output: "R",
    });
    server.offer(lease);
    await until(() => server.completions.has(lease.leaseId));
    loop.drain();
    await done;
    const entries = server.logs.get(lease.leaseId) ?? [];
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(server.logText(lease.leaseId)).toBe("out1\nout2\nout3\nresult\n");
    expect(server.logText(lease.leaseId, "stderr")).toBe("err1\nerr2\nerr3\n");
    expect(server.completions.get(lease.leaseId)).toMatchObject({
      token: lease.token,
      exitCode: 5,
      output: "out1\nout2\nout3\nresult",
      lastLogSeq: entries.length,
      droppedLogBytes: 0,
    });
  });

  it("runs the lease handed back with a completion without asking /lease again", async () => {
    const first = makeLease({ command: "echo first" });
    const second = makeLease({ command: "echo second" });
    server.nextQueue.push(second);
    const loop = leaseLoop({ concurrency: 1 });
    const done = loop.run();
    server.offer(first);
    await until(() => server.completions.has(second.leaseId));
    loop.drain();
    await done;
    expect(server.completions.get(first.leaseId)?.next).toEqual({ runnerId: "r1", labels: { os: "linux" }, max: 1 });
    expect(server.logText(second.leaseId)).toBe("second\n");
    const firstDone = server.callsTo(`/leases/${first.leaseId}/complete`)[0]?.at ?? 0;
    const secondDone = server.callsTo(`/leases/${second.leaseId}/complete`)[0]?.at ?? 0;
    expect(server.callsTo("/lease").filter((c) => c.at > firstDone && c.at < secondDone)).toEqual([]);
  });

  it("never runs more steps than its concurrency", async () => {
    const loop = leaseLoop({ concurrency: 2 });
    const done = loop.run();
    const leases = Array.from({ length: 5 }, () => makeLease({ command: "sleep 0.1" }));
    server.offer(...leases);
    let most = 0;
    await until(() => {
      most = Math.max(most, loop.runningSteps);
      return leases.every((l) => server.completions.has(l.leaseId));
    });
    loop.drain();
    await done;
    expect(most).toBe(2);
  });

  it("retries /lease while the server answers 503", async () => {
    server.failNext = { status: 503, count: 3, suffix: "/lease" };
    const loop = leaseLoop();
    const done = loop.run();
    const lease = makeLease({ command: "echo ok" });
    server.offer(lease);
    await until(() => server.completions.has(lease.leaseId));
    loop.drain();
    await done;
    expect(server.completions.get(lease.leaseId)?.exitCode).toBe(0);
  });

  it("reports itself with its labels, slots and running steps every few seconds", async () => {
    const loop = leaseLoop({ runnerId: "reporter", concurrency: 3, reportIntervalMs: 50 });
    const done = loop.run();
    const lease = makeLease({ command: "sleep 0.3" });
    server.offer(lease);
    const report = await until(() => server.runnerReports.find((r) => r.runnerId === "reporter" && r.running?.length));
    loop.drain();
    await done;
    expect(report).toEqual({
      runnerId: "reporter",
      labels: { os: "linux" },
      totalSlots: 3,
      running: [
        { runId: lease.runId, dagName: lease.dagName, stepName: lease.stepName, startedAt: expect.any(Number) },
      ],
    });
    const reportsAfterDrain = server.runnerReports.length;
    await until(() => server.completions.has(lease.leaseId));
    expect(server.runnerReports.length).toBeLessThanOrEqual(reportsAfterDrain + 1);
  });

  it("rejects with an AuthError when the server refuses the token", async () => {
    server.failNext = { status: 401, count: 1, suffix: "/lease" };
    await expect(leaseLoop().run()).rejects.toMatchObject({ name: "AuthError" });
  });
});

describe("draining", () => {
  it("cuts the long poll short when idle", async () => {
    server.maxWaitMs = 20_000;
    const since = Date.now();
    const loop = leaseLoop();
    const done = loop.run();
    await until(() => leaseCallsSince(since).length > 0);
    loop.drain();
    await done;
    expect(Date.now() - since).toBeLessThan(2_000);
  });

  it("lets the running step finish and report, without asking for a next lease", async () => {
    const loop = leaseLoop();
    const done = loop.run();
    // The step runs until the test lets it go, so it is surely running when draining begins,
    // however slow the machine.
    const gate = path.join(mkdtempSync(path.join(tmpdir(), "runner-drain-")), "go");
    const lease = makeLease({ command: `echo started; while [ ! -e ${gate} ]; do sleep 0.02; done; echo done` });
    server.offer(lease);
    await until(() => server.logText(lease.leaseId).includes("started"));
    const drainedAt = Date.now();
    loop.drain();
    writeFileSync(gate, "");
    await done;
    expect(server.completions.get(lease.leaseId)).toMatchObject({ exitCode: 0 });
    expect(server.completions.get(lease.leaseId)?.next).toBeUndefined();
    expect(server.logText(lease.leaseId)).toBe("started\ndone\n");
    expect(leaseCallsSince(drainedAt)).toEqual([]);
  });

  it("gives back, unstarted, a lease that arrives with a completion after draining began", async () => {
    const loop = leaseLoop();
    const first = makeLease({ command: "true" });
    const second = makeLease({ command: "echo never" });
    server.nextQueue.push(second);
    server.onComplete = () => loop.drain();
    const done = loop.run();
    server.offer(first);
    await done;
    expect(server.releases).toContain(second.leaseId);
    expect(server.logs.has(second.leaseId)).toBe(false);
  });

  it("on abort, kills running process groups and gives their leases back", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "runner-abort-")), "pgid");
    const loop = leaseLoop();
    const done = loop.run();
    const lease = makeLease({ command: `echo $$ > ${file}; echo started; sleep 30 & wait` });
    server.offer(lease);
    await until(() => server.logText(lease.leaseId).includes("started"));
    await loop.abort({ graceMs: 200, release: true });
    await done;
    expect(server.releases).toContain(lease.leaseId);
    expect(server.completions.has(lease.leaseId)).toBe(false);
    await until(() => !groupAlive(Number(readFileSync(file, "utf8"))), 5_000);
  });
});
