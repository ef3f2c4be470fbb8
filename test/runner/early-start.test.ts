import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { LeaseLoop, type LoopOptions } from "../../runner/src/lease-loop.ts";
import { RunFiles } from "../../runner/src/run-files.ts";
import type { Lease } from "../../src/shared/protocol";
import { FakeServer, groupAlive, makeLease, until } from "./fake-server";

let server: FakeServer;
const backoff = { firstMs: 10, maxMs: 50 };

beforeEach(async () => {
  server = await new FakeServer().start();
});
afterEach(() => server.stop());

function leaseLoop(lines: string[], over: Partial<LoopOptions> = {}) {
  const client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff });
  return new LeaseLoop({
    client,
    runnerId: "r1",
    labels: {},
    concurrency: 1,
    log: (line) => lines.push(line),
    waitMs: 25_000,
    backoff,
    ...over,
  });
}

/** A step and its successor, offered with the step's lease exactly as the successor's lease will be. */
function chainOf(successorCommand: string): { a: Lease; b: Lease } {
  const b = makeLease({ command: successorCommand });
  b.leaseId = `${b.runId}.1.1`;
  const a = makeLease({ command: "true" }, { runId: b.runId, leaseId: `${b.runId}.0.1`, stepName: "a" });
  a.successor = { leaseId: b.leaseId, stepName: b.stepName, attempt: b.attempt, exec: structuredClone(b.exec) };
  return { a, b };
}

const callsAbout = (lease: Lease) => server.calls.filter((c) => c.path.includes(encodeURIComponent(lease.leaseId)));

describe("a chain's next step started early", () => {
  it("starts the successor while its predecessor's completion waits, and reports it once the reply leases it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "early-"));
    const { a, b } = chainOf(`echo started > ${dir}/b; echo b-out`);
    const lines: string[] = [];
    const loop = leaseLoop(lines);
    const done = loop.run();
    const release = server.pauseCompletions();
    server.nextQueue.push(b);
    server.offer(a);
    await until(() => server.calls.some((c) => c.path.endsWith(`${a.leaseId}/complete`)));
    await until(() => existsSync(path.join(dir, "b")));
    // Started, and nothing said about it before its lease was granted.
    expect(callsAbout(b).map((c) => c.path)).toEqual([]);
    release();
    await until(() => server.completions.has(b.leaseId));
    expect(server.completions.get(b.leaseId)).toMatchObject({ token: b.token, exitCode: 0 });
    expect(
      server.logs
        .get(b.leaseId)
        ?.map((e) => e.text)
        .join(""),
    ).toBe("b-out\n");
    expect(lines.some((l) => l.includes(`${b.stepName}#1`) && l.includes("(started early)"))).toBe(true);
    loop.drain();
    await done;
  });

  it("kills the successor and reports nothing of it when the reply leases nothing", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "early-"));
    const { a, b } = chainOf(`echo $$ > ${dir}/b.pid; sleep 30`);
    const lines: string[] = [];
    const runFiles = new RunFiles({ dir: path.join(dir, "logs") });
    const loop = leaseLoop(lines, { runFiles });
    const done = loop.run();
    const release = server.pauseCompletions();
    server.offer(a);
    const pid = Number(
      await until(() => existsSync(path.join(dir, "b.pid")) && readFileSync(path.join(dir, "b.pid"), "utf8").trim()),
    );
    release();
    await until(() => !groupAlive(pid));
    loop.drain();
    await done;
    expect(callsAbout(b).map((c) => c.path)).toEqual([]);
    expect(existsSync(runFiles.pathsOf(b).stdout)).toBe(false);
    expect(lines.some((l) => l.includes("started early, stopped unreported: the reply granted no lease for it"))).toBe(
      true,
    );
  });

  it("starts nothing before the reply when early start is off", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "early-"));
    const { a, b } = chainOf(`echo started > ${dir}/b`);
    const runFiles = new RunFiles({ dir: path.join(dir, "logs") });
    const loop = leaseLoop([], { earlyStart: false, runFiles });
    const done = loop.run();
    const release = server.pauseCompletions();
    server.nextQueue.push(b);
    server.offer(a);
    await until(() => server.calls.some((c) => c.path.endsWith(`${a.leaseId}/complete`)));
    // A step is taken on (its files made) before its predecessor's completion leaves, when it
    // starts early; with early start off, nothing of it exists until the reply.
    const startedBeforeReply = existsSync(runFiles.pathsOf(b).stdout);
    release();
    await until(() => server.completions.has(b.leaseId));
    expect(startedBeforeReply).toBe(false);
    loop.drain();
    await done;
  });
});
