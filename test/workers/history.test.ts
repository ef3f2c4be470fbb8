import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, complete, createDag, lease, startDag } from "./helpers";

const ONE_STEP = "steps:\n  - name: work\n    command: echo work\n";
const ids = (r: { body: { dagRuns: Array<{ dagRunId: string }> } }) => r.body.dagRuns.map((x) => x.dagRunId);
const DAY_S = 86_400;

/** Puts a run at a given time in the history (as if it had been queued then). */
async function queuedAt(runId: string, sec: number): Promise<void> {
  await env.DB.prepare("UPDATE dag_runs SET queued_at = ? WHERE run_id = ?")
    .bind(sec * 1000, runId)
    .run();
}

async function finish(): Promise<void> {
  for (let ls = await lease(10); ls.length; ls = await lease(10)) for (const l of ls) await complete(l, 0);
}

describe("run history filters", () => {
  it("filters by fromDate and toDate (Unix seconds or ISO 8601), by a part of the run id, on both lists", async () => {
    await createDag("hist", ONE_STEP);
    const now = Math.floor(Date.now() / 1000);
    const runs = { old: "hist-old-1", mid: "hist-mid-2", new: "hist-new-3" };
    for (const id of Object.values(runs)) await startDag("hist", { dagRunId: id });
    await finish();
    await queuedAt(runs.old, now - 10 * DAY_S);
    await queuedAt(runs.mid, now - 5 * DAY_S);
    await queuedAt(runs.new, now - 1 * DAY_S);

    for (const base of ["/dag-runs?name=hist&", "/dag-runs/hist?"]) {
      expect(ids(await api("GET", `${base}fromDate=${now - 6 * DAY_S}`))).toEqual([runs.new, runs.mid]);
      expect(ids(await api("GET", `${base}toDate=${now - 5 * DAY_S}`))).toEqual([runs.mid, runs.old]);
      const iso = (s: number) => encodeURIComponent(new Date(s * 1000).toISOString());
      expect(ids(await api("GET", `${base}fromDate=${iso(now - 6 * DAY_S)}&toDate=${iso(now - 2 * DAY_S)}`))).toEqual([
        runs.mid,
      ]);
      expect(ids(await api("GET", `${base}dagRunId=MID`))).toEqual([runs.mid]);
      expect(ids(await api("GET", `${base}dagRunId=hist-&status=succeeded&fromDate=${now - 6 * DAY_S}`))).toEqual([
        runs.new,
        runs.mid,
      ]);
    }
  });

  it("refuses a date it cannot read, naming the parameter", async () => {
    const r = await api("GET", "/dag-runs?fromDate=yesterday");
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('fromDate must be a Unix time in seconds or an ISO 8601 time, not "yesterday"');
  });
});

describe("POST /dags/{fileName}/rename", () => {
  it("moves the DAG and its history to the new name", async () => {
    await createDag("before", `schedule: "0 * * * *"\n${ONE_STEP}`);
    const runId = await startDag("before");
    await finish();
    expect((await api("POST", "/dags/before/rename", { newFileName: "after" })).status).toBe(200);

    expect((await api("GET", "/dags/before")).status).toBe(404);
    const dag = await api("GET", "/dags/after");
    expect(dag.body.dag.name).toBe("after");
    expect(dag.body.latestDAGRun.dagRunId).toBe(runId);
    expect(dag.body.nextRun).toBeDefined();
    expect(ids(await api("GET", "/dag-runs/after"))).toEqual([runId]);
    expect(ids(await api("GET", "/dag-runs/before"))).toEqual([]);
    const details = await api("GET", `/dag-runs/after/${runId}`);
    expect(details.body.dagRunDetails).toMatchObject({ name: "after", statusLabel: "succeeded" });
    expect((await api("GET", "/dags/after/dag-runs")).body.dagRuns.map((r: { name: string }) => r.name)).toEqual([
      "after",
    ]);
  });

  it("keeps a spec's own name for its runs, and refuses a taken or bad name, or an active DAG", async () => {
    await createDag("file-a", `name: named-in-spec\n${ONE_STEP}`);
    await createDag("taken", ONE_STEP);
    const run = await startDag("file-a");
    const active = await api("POST", "/dags/file-a/rename", { newFileName: "file-b" });
    expect(active.status).toBe(400);
    expect(active.body.message).toContain("has an active run");
    await finish();

    expect((await api("POST", "/dags/file-a/rename", { newFileName: "taken" })).status).toBe(409);
    const bad = await api("POST", "/dags/file-a/rename", { newFileName: "no good" });
    expect(bad.status).toBe(400);
    expect(bad.body.details.field).toBe("newFileName");
    expect((await api("GET", "/dags/file-a")).status).toBe(200);

    expect((await api("POST", "/dags/file-a/rename", { newFileName: "file-b" })).status).toBe(200);
    expect((await api("GET", "/dags/file-b")).body.latestDAGRun.dagRunId).toBe(run);
    expect(ids(await api("GET", "/dag-runs/named-in-spec"))).toEqual([run]);
  });
});
