import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, complete, createDag, fireRunAlarm, lease, runnerApi, startDag, USER_TOKEN } from "./helpers";

const ONE_STEP = "steps:\n  - name: only\n    command: echo\n";

/** Storage statements the RunObjects ran so far on the step log tables (src/call-counts.ts). */
async function logStatements(): Promise<number> {
  const res = await exports.default.fetch("http://dagflare.test/api/v2/metrics", {
    headers: { authorization: `Bearer ${USER_TOKEN}` },
  });
  const text = await res.text();
  let n = 0;
  for (const m of text.matchAll(/^dagflare_calls_total\{call="SQL\.RunObject\.\w+\.(logs|log_meta)"\} (\d+)$/gm)) {
    n += Number(m[2]);
  }
  return n;
}

async function stepLog(dag: string, runId: string, attempt: number): Promise<string> {
  const r = await api("GET", `/dag-runs/${dag}/${runId}/steps/only/log?attempt=${attempt}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.content;
}

describe("an attempt's log", () => {
  it("starts empty when its attempt number is used again after a lease taken back unconfirmed", async () => {
    await createDag("relog", ONE_STEP);
    const runId = await startDag("relog");
    const [lost] = await lease(1, "runner-gone");
    expect(lost.attempt).toBe(1);
    const logged = await runnerApi(`/leases/${lost.leaseId}/logs`, {
      token: lost.token,
      entries: [{ seq: 1, stream: "stdout", text: "from the lease that was taken back\n" }],
    });
    expect(logged.body).toEqual({ ackedSeq: 1 });
    expect(await fireRunAlarm(runId)).toBe(true);

    const [again] = await lease(1, "runner-new");
    expect(again.attempt).toBe(1);
    expect(await stepLog("relog", runId, 1)).toBe("");
    await runnerApi(`/leases/${again.leaseId}/logs`, {
      token: again.token,
      entries: [{ seq: 1, stream: "stdout", text: "its own\n" }],
    });
    await complete(again, 0);
    expect(await stepLog("relog", runId, 1)).toBe("its own");
  });

  it("starts empty when its attempt number is used again after its lease was released", async () => {
    await createDag("released", ONE_STEP);
    const runId = await startDag("released");
    const [first] = await lease(1, "runner-draining");
    await runnerApi(`/leases/${first.leaseId}/logs`, {
      token: first.token,
      entries: [{ seq: 1, stream: "stdout", text: "before the release\n" }],
    });
    expect(
      (await runnerApi(`/leases/${first.leaseId}/release`, { token: first.token, reason: "draining" })).status,
    ).toBe(200);
    const [again] = await lease(1, "runner-new");
    expect(again.attempt).toBe(1);
    expect(await stepLog("released", runId, 1)).toBe("");
  });

  it("costs a claim of a new attempt number no statement on the log tables", async () => {
    await createDag("fresh", ONE_STEP);
    await startDag("fresh");
    const before = await logStatements();
    const [l] = await lease(1, "runner-fresh");
    expect(l.attempt).toBe(1);
    expect(await logStatements()).toBe(before);
  });
});
