import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Lease, LogsInCompletion } from "../../src/shared/protocol";
import { FakeServer, leaseChain, testLeaseLoop, until } from "./fake-server";

let server: FakeServer;
const BOUND: LogsInCompletion = { maxBytes: 64 * 1024, maxEntries: 1024 };

beforeEach(async () => {
  server = await new FakeServer().start();
});
afterEach(() => server.stop());

const leaseLoop = (lines: string[]) => testLeaseLoop(server, lines);

const callsAbout = (lease: Lease, action: string) =>
  server.calls.filter((c) => c.path === `/leases/${lease.leaseId}/${action}`);
/** Each step prints a line and says its pid. */
const printing = (names: string[]) => names.map((n) => `echo out-${n}`);

describe("a chain's steps with output run ahead", () => {
  it("reports a chain of steps that each print a line in one call, each with its line", async () => {
    const [s0, s1, s2, s3] = leaseChain(["true", ...printing(["s1", "s2", "s3"])], BOUND);
    if (!s0 || !s1 || !s2 || !s3) throw new Error("expected four leases");
    const { loop, handed } = leaseLoop([]);
    const done = loop.run();
    const release = server.pauseCompletions();
    server.nextQueue.push(s1);
    server.offer(s0);
    // Every step ran to its end and its completion waits, while the first step's is held.
    await until(() => handed(s3));
    release();
    await until(() => server.completions.has(s3.leaseId));
    const calls = server.callsTo("/completions");
    expect(calls).toHaveLength(1);
    const batch = calls[0]?.body.completions;
    expect(batch.map((c: { leaseId: string }) => c.leaseId)).toEqual([s1.leaseId, s2.leaseId, s3.leaseId]);
    expect(batch.map((c: { offered?: unknown }) => c.offered)).toEqual([undefined, { attempt: 1 }, { attempt: 1 }]);
    for (const [i, l] of [s1, s2, s3].entries()) {
      expect(batch[i].logs).toEqual([{ seq: 1, stream: "stdout", text: `out-s${i + 1}\n` }]);
      expect(batch[i].lastLogSeq).toBe(1);
      expect(server.logText(l.leaseId)).toBe(`out-s${i + 1}\n`);
      // Each entry went once: with the completion, never in an append.
      expect(callsAbout(l, "logs")).toEqual([]);
    }
    loop.drain();
    await done;
  });

  it("ships the output of a step confirmed while it runs in appends, and none of it with its completion", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ahead-logs-"));
    const s1Command = `echo before; touch ${dir}/s1-up; while [ ! -e ${dir}/go ]; do sleep 0.01; done; echo after`;
    const [s0, s1] = leaseChain(["true", s1Command], BOUND);
    if (!s0 || !s1) throw new Error("expected two leases");
    const { loop } = leaseLoop([]);
    const done = loop.run();
    server.nextQueue.push(s1);
    server.offer(s0);
    // s1 runs on past its predecessor's reply, which confirms it: its output then goes as any step's.
    await until(() => server.completions.has(s0.leaseId) && existsSync(path.join(dir, "s1-up")));
    await until(() => server.logText(s1.leaseId) === "before\n");
    writeFileSync(path.join(dir, "go"), "");
    await until(() => server.completions.has(s1.leaseId));
    expect(server.logText(s1.leaseId)).toBe("before\nafter\n");
    const seqs = callsAbout(s1, "logs").flatMap((c) => c.body.entries.map((e: { seq: number }) => e.seq));
    expect(seqs).toEqual([...new Set(seqs)]);
    const last = [...server.callsTo("/complete"), ...server.callsTo("/completions")].at(-1)?.body;
    expect(JSON.stringify(last)).not.toContain('"logs"');
    loop.drain();
    await done;
  });

  it("drops the lines of a step whose offered completion was refused, and ships none of them later", async () => {
    const [s0, s1, s2, s3] = leaseChain(["true", ...printing(["s1", "s2", "s3"])], BOUND);
    if (!s0 || !s1 || !s2 || !s3) throw new Error("expected four leases");
    const lines: string[] = [];
    const { loop, handed } = leaseLoop(lines);
    const done = loop.run();
    const release = server.pauseCompletions();
    server.nextQueue.push(s1);
    server.lost.set(s2.leaseId, ["complete"]);
    server.offer(s0);
    // Every step ran to its end and its completion waits, while the first step's is held.
    await until(() => handed(s3));
    release();
    await until(() => lines.some((l) => l.includes("stopped unreported")));
    loop.drain();
    await done;
    expect(server.logText(s1.leaseId)).toBe("out-s1\n");
    for (const l of [s2, s3]) {
      expect(server.logs.get(l.leaseId)).toBeUndefined();
      expect(callsAbout(l, "logs")).toEqual([]);
    }
    expect(lines.some((l) => l.includes("started early, stopped unreported: its completion was refused"))).toBe(true);
  });

  it("ships a step's output under its lease before completing it when the server takes no log with a completion", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ahead-logs-"));
    const [s0, s1, s2] = leaseChain(["true", ...printing(["s1", "s2"]).map((c, i) => `${c}; touch ${dir}/s${i + 1}`)]);
    if (!s0 || !s1 || !s2) throw new Error("expected three leases");
    const { loop } = leaseLoop([]);
    const done = loop.run();
    const release = server.pauseCompletions();
    server.nextQueue.push(s1, s2);
    server.offer(s0);
    // Both ran ahead while the first step's completion was held; neither could ship or report.
    await until(() => existsSync(path.join(dir, "s2")));
    release();
    await until(() => server.completions.has(s2.leaseId));
    for (const [i, l] of [s1, s2].entries()) {
      expect(server.logText(l.leaseId)).toBe(`out-s${i + 1}\n`);
      expect(callsAbout(l, "logs")).toHaveLength(1);
      expect(server.completions.get(l.leaseId)).toMatchObject({ token: l.token });
    }
    expect(JSON.stringify(server.callsTo("/completions").map((c) => c.body))).not.toContain('"logs"');
    loop.drain();
    await done;
  });
});
