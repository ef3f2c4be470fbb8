import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createDag, startDag } from "./helpers";

const ONE_STEP = "steps:\n  - name: only\n    command: echo\n";
const ids = (r: { body: { dagRuns: Array<{ dagRunId: string }> } }) => r.body.dagRuns.map((x) => x.dagRunId);

beforeAll(async () => {
  for (const name of ["Billing-daily", "billing-hourly", "shipping"]) await createDag(name, ONE_STEP);
  for (const [name, dagRunId] of [
    ["Billing-daily", "bd-1"],
    ["billing-hourly", "bh-1"],
    ["billing-hourly", "bh-2"],
    ["shipping", "sh-1"],
  ]) {
    await startDag(name as string, { dagRunId });
  }
  // Known times and statuses, an hour apart (the run index is what the list reads).
  const hour = 3_600_000;
  const base = Date.parse("2026-01-01T00:00:00Z");
  for (const [i, runId, status] of [
    [0, "bd-1", "failed"],
    [1, "bh-1", "succeeded"],
    [2, "bh-2", "failed"],
    [3, "sh-1", "failed"],
  ] as const) {
    await env.DB.prepare("UPDATE dag_runs SET queued_at = ?, status = ? WHERE run_id = ?")
      .bind(base + i * hour, status, runId)
      .run();
  }
});

describe("GET /dag-runs", () => {
  it("matches a part of the DAG name in any case, newest first", async () => {
    expect(ids(await api("GET", "/dag-runs?name=BILLING"))).toEqual(["bh-2", "bh-1", "bd-1"]);
  });

  it("keeps GET /dag-runs/{name} to the runs of exactly that DAG", async () => {
    expect(ids(await api("GET", "/dag-runs/billing-hourly"))).toEqual(["bh-2", "bh-1"]);
    expect(ids(await api("GET", "/dag-runs/billing"))).toEqual([]);
  });

  it("pages on the server and says how many runs match", async () => {
    const first = await api("GET", "/dag-runs?name=billing&perPage=2");
    expect(ids(first)).toEqual(["bh-2", "bh-1"]);
    expect(first.body.pagination).toEqual({ totalRecords: 3, currentPage: 1, totalPages: 2, nextPage: 2, prevPage: 1 });
    const second = await api("GET", "/dag-runs?name=billing&perPage=2&page=2");
    expect(ids(second)).toEqual(["bd-1"]);
    expect(second.body.pagination).toMatchObject({ currentPage: 2, nextPage: 2, prevPage: 1 });
  });

  it("combines a status and a date range", async () => {
    const from = Math.floor(Date.parse("2026-01-01T00:30:00Z") / 1000);
    const to = "2026-01-01T02:30:00Z";
    const r = await api("GET", `/dag-runs?status=2&fromDate=${from}&toDate=${to}`);
    expect(ids(r)).toEqual(["bh-2"]);
    expect(r.body.pagination.totalRecords).toBe(1);
  });

  it("refuses a page size beyond the limit, naming the field", async () => {
    const r = await api("GET", "/dag-runs?perPage=501");
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["perPage"]);
  });
});
