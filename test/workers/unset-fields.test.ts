// What Dagu's server sends for a time or id that is not set yet, field by field (its
// DAGRunStatus: an unset run time is "", an unset queuedAt or params is left out, a DAG that
// never ran has empty ids and its steps' times are "-"; a step of a run not reached yet has "").
import { describe, expect, it } from "vitest";
import { api, complete, createDag, details, lease, nodeOf, startDag } from "./helpers";

const TWO_STEPS = "steps:\n  - name: a\n    command: echo a\n  - name: b\n    command: echo b\n";

describe("unset times and ids, as Dagu sends them", () => {
  it("gives a running run an empty finishedAt, and its steps not reached yet empty times", async () => {
    await createDag("unset-running", TWO_STEPS);
    const runId = await startDag("unset-running");
    const d = await details("unset-running", runId);
    expect(d.startedAt).toMatch(/^\d{4}-/);
    expect(d.finishedAt).toBe("");
    expect(nodeOf(d, "b")).toMatchObject({ startedAt: "", finishedAt: "" });
    for (let i = 0; i < 2; i++) {
      const [l] = await lease();
      await complete(l, 0);
    }
    expect((await details("unset-running", runId)).finishedAt).toMatch(/^\d{4}-/);
  });

  it("leaves params out of a run started without any", async () => {
    await createDag("unset-params", TWO_STEPS);
    const runId = await startDag("unset-params");
    expect(await details("unset-params", runId)).not.toHaveProperty("params");
    const list = await api("GET", "/dag-runs?name=unset-params");
    expect(list.body.dagRuns[0]).not.toHaveProperty("params");
    for (let i = 0; i < 2; i++) {
      const [l] = await lease();
      await complete(l, 0);
    }
  });

  it("shows a DAG that never ran with empty run ids and times, no queuedAt, and '-' step times", async () => {
    await createDag("unset-never", TWO_STEPS);
    const { latestDAGRun } = (await api("GET", "/dags/unset-never")).body;
    expect(latestDAGRun).toMatchObject({
      name: "unset-never",
      dagRunId: "",
      rootDAGRunId: "",
      rootDAGRunName: "",
      startedAt: "",
      finishedAt: "",
      log: "",
      status: 0,
    });
    expect(latestDAGRun).not.toHaveProperty("queuedAt");
    expect(nodeOf(latestDAGRun, "a")).toMatchObject({ startedAt: "-", finishedAt: "-" });
  });
});
