// A queued step whose task the dispatcher lost (taken off its queue by a request whose claim never
// reached the run: the dispatcher or the server stopped in between) is offered again by its run,
// so the run does not wait for ever.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dispatcherFor, runStub } from "../../src/stubs";
import { complete, createDag, details, lease, nodeOf, startDag } from "./helpers";

const ONE_STEP = `steps:
  - name: only
    command: echo only
`;

/** Drops the run's tasks from the pool's queue, as a take whose claim never arrived would. */
async function loseTasks(runId: string): Promise<number> {
  return runInDurableObject(dispatcherFor(env), (_o, state) => {
    const sql = state.storage.sql;
    const n = sql.exec("SELECT id FROM tasks WHERE run_id = ?", runId).toArray().length;
    sql.exec("DELETE FROM tasks WHERE run_id = ?", runId);
    return n;
  });
}

/** Makes the run's offer-again timers due now, as if their time had passed. */
async function offerTimersDue(runId: string): Promise<number> {
  const stub = runStub(env, runId);
  const n = await runInDurableObject(stub, (_o, state) => {
    const sql = state.storage.sql;
    const due = sql.exec("SELECT key FROM timers WHERE key LIKE '%enqueue%'").toArray().length;
    sql.exec("UPDATE timers SET at = 1 WHERE key LIKE '%enqueue%'");
    return due;
  });
  // The object keeps its timers in memory too: read them again from storage.
  await evictDurableObject(stub);
  return n;
}

describe("a queued step whose task was lost", () => {
  it("is offered to the dispatcher again and a runner gets it", async () => {
    await createDag("reoffer", ONE_STEP);
    const runId = await startDag("reoffer");
    expect(await loseTasks(runId)).toBe(1);
    expect(await lease(1, "runner-after-loss")).toEqual([]);

    expect(await offerTimersDue(runId)).toBe(1);
    await runDurableObjectAlarm(runStub(env, runId));

    const [l] = await lease(1, "runner-after-loss");
    expect(l?.stepName).toBe("only");
    expect((await complete(l, 0)).status).toBe(200);
    const d = await details("reoffer", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(nodeOf(d, "only")).toMatchObject({ statusLabel: "succeeded" });
  });

  it("is not offered again once a runner leased it", async () => {
    await createDag("reoffer-leased", ONE_STEP);
    const runId = await startDag("reoffer-leased");
    const [l] = await lease(1, "runner-in-time");
    expect(l).toBeDefined();
    expect(await offerTimersDue(runId)).toBe(0);
    expect((await complete(l, 0)).status).toBe(200);
  });
});
