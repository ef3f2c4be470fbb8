// Bad input on the runner endpoints: a clear 4xx with the contract's error code, and the run's
// state untouched.
import { describe, expect, it } from "vitest";
import { api, complete, createDag, details, fireRunAlarm, lease, nodeOf, runnerApi, startDag } from "./helpers";

const stepLog = async (dag: string, runId: string, step: string, attempt?: number) =>
  (await api("GET", `/dag-runs/${dag}/${runId}/steps/${step}/log${attempt ? `?attempt=${attempt}` : ""}`)).body.content;

describe("bad input on the runner endpoints", () => {
  it("answers lease ids of no run or no step with a 4xx and does not create a run", async () => {
    for (const leaseId of ["no-such-run.0.1", "nope", "a.b.c"]) {
      const hb = await runnerApi(`/leases/${leaseId}/heartbeat`, { token: "x" });
      expect([404, 409], leaseId).toContain(hb.status);
      expect(["not_found", "not_running"]).toContain(hb.body.code);
    }
    await createDag("one-step", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("one-step");
    const [l] = await lease();
    const wrongStep = await complete({ leaseId: `${runId}.7.1`, token: l.token }, 0);
    expect(wrongStep.status).toBe(409);
    expect(wrongStep.body.message).toMatch(/unknown lease/);
    expect(nodeOf(await details("one-step", runId), "only").statusLabel).toBe("running");
    await complete(l, 0);
    expect((await api("GET", "/dag-runs/one-step/no-such-run")).status).toBe(404);
  });

  it("refuses every call of a stale lease after its step was dispatched again, and keeps its logs out", async () => {
    await createDag("stale", "steps:\n  - name: only\n    command: sleep 1\n");
    const runId = await startDag("stale");
    const [old] = await lease(1, "stale-runner");
    await runnerApi(`/leases/${old.leaseId}/heartbeat`, { token: old.token });
    expect(await fireRunAlarm(runId)).toBe(true);
    const [current] = await lease(1, "fresh-runner");
    expect(current.attempt).toBe(2);

    const calls = [
      await runnerApi(`/leases/${old.leaseId}/heartbeat`, { token: old.token }),
      await runnerApi(`/leases/${old.leaseId}/logs`, {
        token: old.token,
        entries: [{ seq: 1, stream: "stdout", text: "from the stale lease\n" }],
      }),
      await runnerApi(`/leases/${old.leaseId}/release`, { token: old.token }),
      await complete(old, 0),
      // The old token on the new lease's id is just as stale.
      await complete({ leaseId: current.leaseId, token: old.token }, 0),
    ];
    for (const r of calls) {
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: "not_running", message: expect.stringMatching(/lease is not current/) });
    }
    const node = nodeOf(await details("stale", runId), "only");
    expect(node).toMatchObject({ statusLabel: "running", attempt: 2, runnerId: "fresh-runner" });
    expect(await stepLog("stale", runId, "only", 1)).toBe("");
    expect(await stepLog("stale", runId, "only", 2)).toBe("");
    await complete(current, 0);
    expect((await details("stale", runId)).statusLabel).toBe("succeeded");
  });

  it("refuses a batch whose entries are out of order or repeated, storing none of it", async () => {
    await createDag("order2", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("order2");
    const [l] = await lease();
    for (const seqs of [
      [2, 1],
      [1, 1],
    ]) {
      const r = await runnerApi(`/leases/${l.leaseId}/logs`, {
        token: l.token,
        entries: seqs.map((seq) => ({ seq, stream: "stdout", text: `${seq}\n` })),
      });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: "bad_request", details: { field: "entries" } });
    }
    expect(await stepLog("order2", runId, "only")).toBe("");
    await complete(l, 0);
  });

  it("stores batches that arrive out of order in seq order, acknowledging only the unbroken prefix", async () => {
    await createDag("reorder", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("reorder");
    const [l] = await lease();
    const send = (seq: number, text: string) =>
      runnerApi(`/leases/${l.leaseId}/logs`, { token: l.token, entries: [{ seq, stream: "stdout", text }] });
    expect((await send(2, "second\n")).body).toEqual({ ackedSeq: 0 });
    expect((await send(1, "first\n")).body).toEqual({ ackedSeq: 2 });
    await complete(l, 0);
    expect(await stepLog("reorder", runId, "only")).toBe("first\nsecond");
  });

  it("counts a batch's size in bytes, not characters", async () => {
    await createDag("utf8log", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("utf8log");
    const [l] = await lease();
    // 600,000 two-byte characters: 1.2 MB, over the 1 MiB limit.
    const r = await runnerApi(`/leases/${l.leaseId}/logs`, {
      token: l.token,
      entries: [{ seq: 1, stream: "stdout", text: "é".repeat(600_000) }],
    });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe("bad_request");
    await complete(l, 0);
    expect(await stepLog("utf8log", runId, "only")).toBe("");
  });

  it("keeps what a lease taken back unconfirmed logged out of the attempt that reuses its number", async () => {
    await createDag("reused", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("reused");
    const [vanished] = await lease(1, "runner-vanishing");
    await runnerApi(`/leases/${vanished.leaseId}/logs`, {
      token: vanished.token,
      entries: [{ seq: 1, stream: "stdout", text: "from the vanished runner\n" }],
    });
    expect(await fireRunAlarm(runId)).toBe(true);
    const [again] = await lease(1, "runner-steady");
    expect(again.attempt).toBe(vanished.attempt);
    const r = await runnerApi(`/leases/${again.leaseId}/logs`, {
      token: again.token,
      entries: [{ seq: 1, stream: "stdout", text: "mine\n" }],
    });
    expect(r.body).toEqual({ ackedSeq: 1 });
    await complete(again, 0);
    expect(await stepLog("reused", runId, "only")).toBe("mine");
    const node = nodeOf(await details("reused", runId), "only");
    expect(node.leaseId).toBe(again.leaseId);
  });

  it.each([
    ["/lease", { runnerId: "r", max: 0 }, "max"],
    ["/lease", { runnerId: "r", max: 65 }, "max"],
    ["/lease", { max: 1 }, "runnerId"],
    ["/lease", { runnerId: "r", max: 1, waitMs: 25_001 }, "waitMs"],
    ["/lease", { runnerId: "r", max: 1, labels: { pool: "no spaces" } }, "labels.pool"],
    ["/heartbeat", { runnerId: "r", totalSlots: 1, labels: { pool: "" } }, "labels.pool"],
    ["/leases/x.0.1/complete", { token: "t" }, "exitCode"],
    ["/leases/x.0.1/logs", { token: "t", entries: [] }, "entries"],
    ["/leases/x.0.1/logs", { token: "t", entries: [{ seq: 0, stream: "stdout", text: "" }] }, "entries.0.seq"],
    ["/leases/x.0.1/logs", { token: "t", entries: [{ seq: 1, stream: "tty", text: "" }] }, "entries.0.stream"],
  ])("refuses %s with body %j, naming the field %s", async (path, body, field) => {
    const r = await runnerApi(path, body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("bad_request");
    expect(r.body.details.fields).toContain(field);
  });

  it("refuses a body that is not JSON", async () => {
    const r = await runnerApi("/lease", "{not json");
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/not valid JSON/);
  });
});
