import { describe, expect, it } from "vitest";
import { api, complete, createDag, lease, startDag } from "./helpers";

const ONE_STEP = "steps:\n  - name: only\n    command: echo\n";

/** Runs a DAG once to the end: its one step exits with `exitCode`. */
async function runTo(name: string, exitCode: number) {
  const runId = await startDag(name);
  const mine = (await lease(20)).filter((l) => l.runId === runId);
  expect(mine).toHaveLength(1);
  await complete(mine[0], exitCode);
  return runId;
}

const names = (r: { body: { dags: Array<{ fileName: string }> } }) => r.body.dags.map((d) => d.fileName);

describe("GET /dags", () => {
  it("filters by the latest run's status, a DAG without runs counting as not started", async () => {
    await createDag("st-ok", ONE_STEP);
    await createDag("st-bad", ONE_STEP);
    await createDag("st-none", ONE_STEP);
    await runTo("st-bad", 0);
    await runTo("st-bad", 1);
    await runTo("st-ok", 1);
    await runTo("st-ok", 0);
    expect(names(await api("GET", "/dags?name=st-&status=2"))).toEqual(["st-bad"]);
    expect(names(await api("GET", "/dags?name=st-&status=4"))).toEqual(["st-ok"]);
    expect(names(await api("GET", "/dags?name=st-&status=0"))).toEqual(["st-none"]);
  });

  it("shows each DAG's last ten runs newest first, the latest as latestDAGRun", async () => {
    await createDag("strip", ONE_STEP);
    const ids = Array.from({ length: 11 }, (_, i) => `strip-run-${String(i + 1).padStart(2, "0")}`);
    for (const dagRunId of ids) await startDag("strip", { dagRunId });
    const [dag] = (await api("GET", "/dags?name=strip")).body.dags;
    expect(dag.recentRuns.map((r: { dagRunId: string }) => r.dagRunId)).toEqual(ids.slice(1).reverse());
    expect(dag.recentRuns[0]).toEqual({
      dagRunId: "strip-run-11",
      status: 1,
      statusLabel: "running",
      startedAt: expect.stringMatching(/^\d{4}-/),
    });
    expect(dag.latestDAGRun).toMatchObject({ dagRunId: "strip-run-11", statusLabel: "running" });
    const [fresh] = (await api("GET", "/dags?name=st-none")).body.dags;
    expect(fresh.recentRuns).toEqual([]);
    expect(fresh.latestDAGRun.statusLabel).toBe("not_started");
  });

  it("matches a part of the name in any case, and a tag, counting the matches in the pagination", async () => {
    for (const n of ["Part-one", "part-two", "part-three", "whole"]) {
      await createDag(`sub-${n}`, `tags: [${n === "part-two" ? "blue" : "red"}]\n${ONE_STEP}`);
    }
    const byName = await api("GET", "/dags?name=PART-&perPage=2&page=2");
    expect(names(byName)).toEqual(["sub-part-two"]);
    expect(byName.body.pagination).toMatchObject({ totalRecords: 3, currentPage: 2, totalPages: 2, prevPage: 1 });
    const byTag = await api("GET", "/dags?name=sub-&tag=red");
    expect(names(byTag)).toEqual(["sub-Part-one", "sub-part-three", "sub-whole"]);
    const past = await api("GET", "/dags?name=sub-&page=9");
    expect(past.body.dags).toEqual([]);
    expect(past.body.pagination.totalRecords).toBe(4);
  });

  it("refuses a status that is not a run status code, naming the field", async () => {
    for (const status of ["9", "running", "-1"]) {
      const r = await api("GET", `/dags?status=${status}`);
      expect(r.status).toBe(400);
      expect(r.body.details.fields).toEqual(["status"]);
    }
  });
});
