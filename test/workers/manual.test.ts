// Manual control through the API: POST .../retry (in place) and PATCH .../steps/{step}/status.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { api, complete, createDag, details, lease, nodeOf, startDag } from "./helpers";

const SPEC = `params:
  - DAY: today
env:
  - REGION: eu-\${DAY}
steps:
  - name: extract
    command: echo $DAY
  - name: load
    command: ./load.sh
    workingDir: etl/data
    depends: extract
  - name: report
    command: echo done
    depends: load
`;

/** Starts SPEC with params, runs extract, fails load: the run ends failed, report aborted. */
async function failedRun(name: string) {
  await createDag(name, SPEC);
  const runId = await startDag(name, { params: "DAY=2024-03-01" });
  await complete((await lease())[0], 0);
  const [load] = await lease();
  expect(load.stepName).toBe("load");
  await complete(load, 1);
  const d = await details(name, runId);
  expect(d.statusLabel).toBe("failed");
  expect(nodeOf(d, "report").statusLabel).toBe("aborted");
  return { runId, firstLoad: load };
}

describe("POST /dag-runs/{name}/{dagRunId}/retry", () => {
  it("failedOnly reruns the failed and aborted steps in place with the run's params, env and directory", async () => {
    const { runId, firstLoad } = await failedRun("retry-failed");
    const r = await api("POST", `/dag-runs/retry-failed/${runId}/retry`, { dagRunId: runId, failedOnly: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await details("retry-failed", runId)).statusLabel).toBe("running");
    const [load] = await lease();
    expect(load.stepName).toBe("load");
    expect(load.runId).toBe(runId);
    expect(load.attempt).toBe(2);
    expect(load.exec.env).toMatchObject({ DAY: "2024-03-01", REGION: "eu-2024-03-01", DAG_RUN_ID: runId });
    expect(load.exec.env).toEqual(firstLoad.exec.env);
    expect(load.exec.dir).toBe("etl/data");
    await complete(load, 0);
    await complete((await lease())[0], 0);
    const d = await details("retry-failed", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(nodeOf(d, "extract").statusLabel).toBe("succeeded");
    const list = await api("GET", "/dag-runs?name=retry-failed&status=4");
    expect(list.body.dagRuns.map((x: { dagRunId: string }) => x.dagRunId)).toEqual([runId]);
  });

  it("stepName reruns that step only; with dependents, everything downstream too", async () => {
    const { runId } = await failedRun("retry-step");
    await api("POST", `/dag-runs/retry-step/${runId}/retry`, { dagRunId: runId, stepName: "load" });
    await complete((await lease())[0], 0);
    expect(await lease()).toEqual([]);
    let d = await details("retry-step", runId);
    expect(nodeOf(d, "load").statusLabel).toBe("succeeded");
    expect(nodeOf(d, "report").statusLabel).toBe("aborted");
    expect(d.statusLabel).toBe("failed");

    const r = await api("POST", `/dag-runs/retry-step/${runId}/retry`, {
      dagRunId: runId,
      stepName: "load",
      dependents: true,
    });
    expect(r.status).toBe(200);
    const [load] = await lease();
    expect(load.stepName).toBe("load");
    await complete(load, 0);
    const [report] = await lease();
    expect(report.stepName).toBe("report");
    await complete(report, 0);
    d = await details("retry-step", runId);
    expect(d.statusLabel).toBe("succeeded");
  });

  it("refuses bad input with the field at fault, and a run that is not finished, changing nothing", async () => {
    await createDag("retry-bad", SPEC);
    const runId = await startDag("retry-bad");
    const path = `/dag-runs/retry-bad/${runId}/retry`;
    const running = await api("POST", path, { dagRunId: runId });
    expect(running.status).toBe(400);
    expect(running.body.code).toBe("not_running");
    const cases: Array<[unknown, number, string]> = [
      [{ dagRunId: "other" }, 400, "dagRunId"],
      [{ dagRunId: runId, dependents: true }, 400, "dependents"],
      [{ dagRunId: runId, stepName: "load", failedOnly: true }, 400, "failedOnly"],
    ];
    for (const [body, status, field] of cases) {
      const r = await api("POST", path, body);
      expect(r.status).toBe(status);
      expect(r.body).toMatchObject({ code: "bad_request", details: { field } });
    }
    const missing = await api("POST", path, {});
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe("bad_request");
    await complete((await lease())[0], 0);
    await complete((await lease())[0], 0);
    await complete((await lease())[0], 0);
    expect((await details("retry-bad", runId)).statusLabel).toBe("succeeded");
    const unknown = await api("POST", path, { dagRunId: runId, stepName: "nope" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("not_found");
    const nothingFailed = await api("POST", path, { dagRunId: runId, failedOnly: true });
    expect(nothingFailed.status).toBe(400);
    expect(nothingFailed.body.details).toMatchObject({ field: "failedOnly" });
    expect((await details("retry-bad", runId)).statusLabel).toBe("succeeded");
  });

  it("is described in /openapi.json with dagflare's fields", async () => {
    const res = await app.request("/api/v2/openapi.json", {}, env);
    const doc = (await res.json()) as { paths: Record<string, any> };
    const body = doc.paths["/dag-runs/{name}/{dagRunId}/retry"].post.requestBody.content["application/json"].schema;
    expect(Object.keys(body.properties).sort()).toEqual(["dagRunId", "dependents", "failedOnly", "stepName"]);
  });
});

describe("PATCH /dag-runs/{name}/{dagRunId}/steps/{stepName}/status", () => {
  it("sets a step's status on a finished run and derives the run's status again", async () => {
    const { runId } = await failedRun("patch-status");
    const path = `/dag-runs/patch-status/${runId}/steps`;
    expect((await api("PATCH", `${path}/load/status`, { status: 4 })).status).toBe(200);
    let d = await details("patch-status", runId);
    expect(nodeOf(d, "load").statusLabel).toBe("succeeded");
    expect(d.statusLabel).toBe("failed");
    expect((await api("PATCH", `${path}/report/status`, { status: 5 })).status).toBe(200);
    d = await details("patch-status", runId);
    expect(nodeOf(d, "report").statusLabel).toBe("skipped");
    expect(d.statusLabel).toBe("succeeded");
    const list = await api("GET", "/dag-runs?name=patch-status&status=4");
    expect(list.body.dagRuns).toHaveLength(1);
  });

  it("refuses an unknown step, a status it cannot set and a run that is not finished", async () => {
    await createDag("patch-bad", SPEC);
    const runId = await startDag("patch-bad");
    const path = `/dag-runs/patch-bad/${runId}/steps`;
    const notDone = await api("PATCH", `${path}/extract/status`, { status: 4 });
    expect(notDone.status).toBe(400);
    expect(notDone.body.code).toBe("bad_request");
    expect(notDone.body.message).toMatch(/the run is running/);
    const badStatus = await api("PATCH", `${path}/extract/status`, { status: 1 });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body).toMatchObject({ code: "bad_request", details: { field: "status" } });
    const unknown = await api("PATCH", `${path}/nope/status`, { status: 4 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("not_found");
    const d = await details("patch-bad", runId);
    expect(d.statusLabel).toBe("running");
    expect(nodeOf(d, "extract").statusLabel).toBe("not_started");
  });
});
