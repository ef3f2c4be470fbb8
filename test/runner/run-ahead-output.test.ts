// A chain's next step, run ahead, starts as soon as its predecessor exits 0, before the
// predecessor's own bookkeeping (its report, its files closed, its lines logged): what it may
// read of its predecessor must be complete by then.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { LeaseLoop } from "../../runner/src/lease-loop.ts";
import { RunFiles } from "../../runner/src/run-files.ts";
import { FakeServer, makeLease, until } from "./fake-server";

let server: FakeServer;
const backoff = { firstMs: 10, maxMs: 50 };

beforeEach(async () => {
  server = await new FakeServer().start();
});
afterEach(() => server.stop());

it("finds its predecessor's whole output in the predecessor's file, the tail its mask held back too", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ahead-output-"));
  const runFiles = new RunFiles({ dir: path.join(dir, "logs") });
  // The output ends in the start of the runner's token: the mask holds it back until the end.
  const runnerToken = "runner-token-value";
  const a = makeLease({ command: "printf 'first line\\nlast line, unended, ends in run'" }, { stepName: "a" });
  const b = makeLease({}, { runId: a.runId, leaseId: `${a.runId}.1.1`, stepName: "b" });
  a.leaseId = `${a.runId}.0.1`;
  const seen = path.join(dir, "seen");
  b.exec.command = `cat '${runFiles.pathsOf(a).stdout}' > '${seen}.tmp' && mv '${seen}.tmp' '${seen}'`;
  a.successor = { leaseId: b.leaseId, stepName: b.stepName, attempt: b.attempt, exec: structuredClone(b.exec) };
  const client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff });
  const loop = new LeaseLoop({
    client,
    runnerId: "r1",
    labels: {},
    concurrency: 1,
    log: () => {},
    backoff,
    runFiles,
    runnerToken,
  });
  const done = loop.run();
  // The predecessor's completion is held: the successor runs ahead of its answer.
  const release = server.pauseCompletions();
  server.nextQueue.push(b);
  server.offer(a);
  await until(() => existsSync(seen));
  expect(readFileSync(seen, "utf8")).toBe("first line\nlast line, unended, ends in run");
  release();
  await until(() => server.completions.has(b.leaseId));
  loop.drain();
  await done;
});
