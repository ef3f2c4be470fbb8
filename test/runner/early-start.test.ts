import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LoopOptions } from "../../runner/src/lease-loop.ts";
import { RunFiles } from "../../runner/src/run-files.ts";
import type { Lease } from "../../src/shared/protocol";
import { FakeServer, groupAlive, leaseChain, makeLease, testLeaseLoop, until } from "./fake-server";

let server: FakeServer;

beforeEach(async () => {
  server = await new FakeServer().start();
});
afterEach(() => server.stop());

const leaseLoop = (lines: string[], over: Partial<LoopOptions> = {}) => testLeaseLoop(server, lines, over).loop;

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

/** Waits until the pid a step wrote to `file` names a process group that is gone: the step exited. */
async function exited(file: string): Promise<void> {
  const pid = Number(await until(() => existsSync(file) && readFileSync(file, "utf8").trim()));
  await until(() => !groupAlive(pid));
}

describe("a chain's steps run ahead, several deep", () => {
  it("runs the offered chain while the first completion waits, and reports the rest in one call without tokens", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ahead-"));
    const [s0, s1, s2, s3] = leaseChain(["true", ...["s1", "s2", "s3"].map((n) => `echo $$ > ${dir}/${n}.pid`)]);
    if (!s0 || !s1 || !s2 || !s3) throw new Error("expected four leases");
    const { loop, handed } = testLeaseLoop(server, []);
    const done = loop.run();
    const release = server.pauseCompletions();
    server.nextQueue.push(s1, s2, s3);
    server.offer(s0);
    // All three ran to their end while the first step's completion was held.
    await exited(path.join(dir, "s3.pid"));
    // The last step's exit was seen and its completion handed over: the call can take all three.
    await until(() => handed(s3));
    expect([s1, s2, s3].flatMap(callsAbout)).toEqual([]);
    release();
    await until(() => server.completions.has(s3.leaseId));
    const batch = server.callsTo("/completions").at(-1)?.body.completions;
    expect(batch.map((c: { leaseId: string }) => c.leaseId)).toEqual([s1.leaseId, s2.leaseId, s3.leaseId]);
    expect(batch.map((c: { offered?: unknown }) => c.offered)).toEqual([undefined, { attempt: 1 }, { attempt: 1 }]);
    // Each step's result arrives, under the token of the lease the call granted it.
    for (const l of [s1, s2, s3])
      expect(server.completions.get(l.leaseId)).toMatchObject({ token: l.token, exitCode: 0 });
    loop.drain();
    await done;
  });

  it("kills the steps run ahead and reports nothing of them when the first completion is refused", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ahead-"));
    const [s0, s1, s2] = leaseChain(["true", `echo $$ > ${dir}/s1.pid`, `echo $$ > ${dir}/s2.pid; sleep 30`]);
    if (!s0 || !s1 || !s2) throw new Error("expected three leases");
    const lines: string[] = [];
    const loop = leaseLoop(lines);
    const done = loop.run();
    const release = server.pauseCompletions();
    server.lost.set(s0.leaseId, ["complete"]);
    server.offer(s0);
    await exited(path.join(dir, "s1.pid"));
    const pid = Number(
      await until(() => existsSync(path.join(dir, "s2.pid")) && readFileSync(path.join(dir, "s2.pid"), "utf8").trim()),
    );
    release();
    await until(() => !groupAlive(pid));
    loop.drain();
    await done;
    expect([s1, s2].flatMap(callsAbout)).toEqual([]);
    expect(server.callsTo("/completions")).toEqual([]);
    // One line names every step it ran ahead and dropped.
    const dropped = lines.filter((l) => l.includes("started early, stopped unreported"));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toContain(s1.leaseId);
    expect(dropped[0]).toContain(s2.leaseId);
    // About 2 s alone; more on a loaded machine (it waits for two processes and a drain).
  }, 15_000);
});
