import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LeaseLostError, RunnerClient } from "../../runner/src/client.ts";
import { StepRun } from "../../runner/src/exec.ts";
import type { CompleteRequest } from "../../src/shared/protocol";
import { FakeServer, makeLease, until } from "./fake-server";

let server: FakeServer;
let client: RunnerClient;
const backoff = { firstMs: 10, maxMs: 50 };
const ask = { runnerId: "r1", labels: {}, max: 1 };

beforeEach(async () => {
  server = await new FakeServer().start();
  client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff });
});
afterEach(() => server.stop());

function result(token: string, extra: Partial<CompleteRequest> = {}): CompleteRequest {
  return { token, exitCode: 0, signal: null, timedOut: false, cancelled: false, ...extra };
}

/** Completion calls in the order the server got them: the leases each one carried. */
function completionCalls(): string[][] {
  return server.calls
    .filter((c) => c.path === "/completions" || c.path.endsWith("/complete"))
    .map((c) =>
      c.path === "/completions"
        ? c.body.completions.map((x: { leaseId: string }) => x.leaseId)
        : [decodeURIComponent(c.path.split("/")[2] ?? "")],
    );
}

describe("completions that end together", () => {
  it("leave in one call when several steps end while a completion call is in flight", async () => {
    const leases = [1, 2, 3, 4].map(() => makeLease({ command: "true" }));
    const release = server.pauseCompletions();
    const handedOver = vi.spyOn(client, "complete");
    const runs = leases.map((lease) => new StepRun(lease, { client, log: () => {}, backoff }).execute());
    await until(() => handedOver.mock.calls.length === leases.length);
    release();
    await Promise.all(runs);
    // The first call leaves with what was handed over in its turn (one, or all four when the
    // processes' exits were read together); everything after it waits and leaves in one call.
    const calls = completionCalls();
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls.flat().sort()).toEqual(leases.map((l) => l.leaseId).sort());
    for (const lease of leases) expect(server.completions.get(lease.leaseId)?.token).toBe(lease.token);
  });

  it("go in one call when handed over in the same event-loop turn", async () => {
    const [a, b, c] = [1, 2, 3].map(() => makeLease({ command: "true" }));
    if (!a || !b || !c) throw new Error("no leases");
    const answers = await Promise.all([a, b, c].map((l) => client.complete(l.leaseId, result(l.token))));
    expect(completionCalls()).toEqual([[a.leaseId, b.leaseId, c.leaseId]]);
    expect(answers.map((x) => x.accepted)).toEqual([true, true, true]);
  });

  it("send a lone completion at once as its own complete call, with its next ask", async () => {
    const lease = makeLease({ command: "true" });
    const following = makeLease({ command: "true" });
    server.nextQueue.push(following);
    const answer = await client.complete(lease.leaseId, { ...result(lease.token), next: ask });
    expect(server.calls.map((c) => c.path)).toEqual([`/leases/${lease.leaseId}/complete`]);
    expect(answer.next.map((l) => l.leaseId)).toEqual([following.leaseId]);
  });

  it("share the leases granted for their next asks, each up to its own ask", async () => {
    const [a, b, c] = [1, 2, 3].map(() => makeLease({ command: "true" }));
    if (!a || !b || !c) throw new Error("no leases");
    const granted = [1, 2, 3].map(() => makeLease({ command: "true" }));
    server.nextQueue.push(...granted);
    const answers = await Promise.all([
      client.complete(a.leaseId, { ...result(a.token), next: { ...ask, max: 2 } }),
      client.complete(b.leaseId, result(b.token)),
      client.complete(c.leaseId, { ...result(c.token), next: ask }),
    ]);
    expect(server.callsTo("/completions")[0]?.body.next).toEqual({ ...ask, max: 3 });
    expect(answers.map((x) => x.next.map((l) => l.leaseId))).toEqual([
      [granted[0]?.leaseId, granted[1]?.leaseId],
      [],
      [granted[2]?.leaseId],
    ]);
  });

  it("give each completion the lease of the successor it offered, whatever the order of the granted leases", async () => {
    // Two chains of one run.
    const a = makeLease({ command: "true" });
    const same = (i: number) => ({ runId: a.runId, leaseId: `${a.runId}.${i}.1` });
    const b = makeLease({ command: "true" }, same(1));
    const afterA = makeLease({ command: "true" }, same(2));
    const afterB = makeLease({ command: "true" }, same(3));
    server.nextQueue.push(afterB, afterA);
    const answers = await Promise.all([
      client.complete(a.leaseId, { ...result(a.token), next: ask }, undefined, afterA.leaseId),
      client.complete(b.leaseId, { ...result(b.token), next: ask }, undefined, afterB.leaseId),
    ]);
    expect(server.callsTo("/completions")).toHaveLength(1);
    expect(answers.map((x) => x.next.map((l) => l.leaseId))).toEqual([[afterA.leaseId], [afterB.leaseId]]);
  });

  it("put a completion that offered a successor in a call led by another run's, since every run hands out next", async () => {
    const [a, b] = [1, 2].map(() => makeLease({ command: "true" }));
    if (!a || !b) throw new Error("no leases");
    await Promise.all([
      client.complete(a.leaseId, { ...result(a.token), next: ask }),
      client.complete(b.leaseId, { ...result(b.token), next: ask }, undefined, `${b.runId}.1.1`),
    ]);
    expect(completionCalls()).toEqual([[a.leaseId, b.leaseId]]);
  });

  it("refuse only the stale lease among them", async () => {
    const [a, b] = [1, 2].map(() => makeLease({ command: "true" }));
    if (!a || !b) throw new Error("no leases");
    server.lost.set(b.leaseId, ["complete"]);
    const [first, second] = await Promise.allSettled([
      client.complete(a.leaseId, result(a.token)),
      client.complete(b.leaseId, result(b.token)),
    ]);
    expect(first).toMatchObject({ status: "fulfilled", value: { accepted: true } });
    expect(second).toMatchObject({ status: "rejected", reason: expect.any(LeaseLostError) });
    expect(server.completions.has(b.leaseId)).toBe(false);
  });

  it("are sent again until acknowledged when the call fails with a 5xx", async () => {
    const [a, b] = [1, 2].map(() => makeLease({ command: "true" }));
    if (!a || !b) throw new Error("no leases");
    server.failNext = { status: 503, count: 2, suffix: "/completions" };
    await Promise.all([a, b].map((l) => client.complete(l.leaseId, result(l.token))));
    expect(server.callsTo("/completions")).toHaveLength(3);
    expect([...server.completions.keys()].sort()).toEqual([a.leaseId, b.leaseId].sort());
  });

  it("go one by one to a server without /completions, and keep doing so", async () => {
    server.batchCompletions = false;
    const leases = [1, 2, 3, 4].map(() => makeLease({ command: "true" }));
    await Promise.all(leases.slice(0, 2).map((l) => client.complete(l.leaseId, result(l.token))));
    await Promise.all(leases.slice(2).map((l) => client.complete(l.leaseId, result(l.token))));
    expect(server.callsTo("/completions")).toHaveLength(1);
    expect(server.callsTo("/complete")).toHaveLength(4);
    expect(server.completions.size).toBe(4);
  });

  it("send a completion that brings log entries in a /completions call, even alone", async () => {
    const lease = makeLease({ command: "true" });
    const logs = [{ seq: 1, stream: "stdout" as const, text: "hi\n" }];
    await client.complete(lease.leaseId, { ...result(lease.token), logs });
    expect(server.callsTo("/complete")).toEqual([]);
    expect(server.callsTo("/completions")[0]?.body.completions[0]).toMatchObject({ leaseId: lease.leaseId, logs });
    expect(server.logText(lease.leaseId)).toBe("hi\n");
  });

  it("count the log entries of a completion a server without /completions cannot take as dropped", async () => {
    server.batchCompletions = false;
    const lease = makeLease({ command: "true" });
    const logs = [{ seq: 1, stream: "stdout" as const, text: "hi\n" }];
    await client.complete(lease.leaseId, { ...result(lease.token), logs });
    const sent = server.callsTo("/complete")[0]?.body;
    expect(sent).toMatchObject({ token: lease.token, droppedLogBytes: 3 });
    expect(sent).not.toHaveProperty("logs");
  });
});
