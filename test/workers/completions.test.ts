import { describe, expect, it } from "vitest";
import { callCounts, createDag, details, lease, nodeOf, runnerApi, startDag } from "./helpers";

const WIDE =
  "type: graph\nsteps:\n  - name: a\n    command: echo a\n  - name: b\n    command: echo b\n  - name: c\n    command: echo c\n";

type L = { leaseId: string; token: string; stepName: string; runId: string; dagName: string };
const done = (l: L, exitCode = 0) => ({ leaseId: l.leaseId, token: l.token, exitCode });

describe("several completions in one call (POST /runners/completions)", () => {
  it("accepts the completions of one run in one call to the run, and hands the runner its next step", async () => {
    await createDag("batch", WIDE);
    const runId = await startDag("batch");
    const [a, b] = (await lease(2)) as L[];
    if (!a || !b) throw new Error("expected two leases");
    const was = await callCounts();
    const r = await runnerApi("/completions", {
      completions: [done(a), done(b, 1)],
      next: { runnerId: "runner-test", max: 1 },
    });
    const now = await callCounts();
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { leaseId: a.leaseId, status: 200, body: { accepted: true } },
      { leaseId: b.leaseId, status: 200, body: { accepted: true } },
    ]);
    expect(r.body.next.map((l: L) => l.stepName)).toEqual(["c"]);
    expect(now("RUNS.completeMany") - was("RUNS.completeMany")).toBe(1);
    const d = await details("batch", runId);
    expect(nodeOf(d, a.stepName).statusLabel).toBe("succeeded");
    expect(nodeOf(d, b.stepName).statusLabel).toBe("failed");
  });

  it("refuses only the completion whose lease is not current, with the 409 its own call would get", async () => {
    await createDag("batch-stale", WIDE);
    await startDag("batch-stale");
    const [a, b] = (await lease(2)) as L[];
    if (!a || !b) throw new Error("expected two leases");
    const r = await runnerApi("/completions", { completions: [{ ...done(a), token: "not-the-token" }, done(b)] });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ leaseId: a.leaseId, status: 409, body: { code: "not_running" } });
    expect(r.body.results[1]).toEqual({ leaseId: b.leaseId, status: 200, body: { accepted: true } });
    const d = await details(a.dagName, a.runId);
    expect(nodeOf(d, a.stepName).statusLabel).toBe("running");
    expect(nodeOf(d, b.stepName).statusLabel).toBe("succeeded");
  });

  it("answers a repeated completion accepted: false, as a repeated single completion is", async () => {
    await createDag("batch-again", WIDE);
    await startDag("batch-again");
    const [a] = (await lease(1)) as L[];
    if (!a) throw new Error("expected a lease");
    await runnerApi("/completions", { completions: [done(a)] });
    const again = await runnerApi("/completions", { completions: [done(a)] });
    expect(again.body.results).toEqual([{ leaseId: a.leaseId, status: 200, body: { accepted: false } }]);
  });

  it("refuses a call that completes one lease twice, naming the completions, and changes nothing", async () => {
    await createDag("batch-twice", WIDE);
    await startDag("batch-twice");
    const [a] = (await lease(1)) as L[];
    if (!a) throw new Error("expected a lease");
    const r = await runnerApi("/completions", { completions: [done(a), done(a, 1)] });
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["completions"]);
    expect(nodeOf(await details(a.dagName, a.runId), a.stepName).statusLabel).toBe("running");
  });

  it("answers an unknown lease 404 within the call and accepts the rest", async () => {
    await createDag("batch-unknown", WIDE);
    await startDag("batch-unknown");
    const [a] = (await lease(1)) as L[];
    if (!a) throw new Error("expected a lease");
    const r = await runnerApi("/completions", { completions: [{ leaseId: "nope", token: "t", exitCode: 0 }, done(a)] });
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([404, 200]);
  });
});
