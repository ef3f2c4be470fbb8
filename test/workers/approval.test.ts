// Human approval through the API: approval steps wait for POST .../approve or /reject.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { ApprovalResponse } from "../../src/shared/protocol";
import { api, complete, createDag, details, extApi, lease, nodeOf, startDag } from "./helpers";

const SPEC = `steps:
  - name: build
    command: echo build
  - name: deploy
    command: echo deploy
    depends: [build]
    approval:
      prompt: ship it?
`;

describe("human approval", () => {
  it("holds the step in waiting with no runner slot until approved; the run shows waiting", async () => {
    await createDag("approve-me", SPEC);
    const runId = await startDag("approve-me");
    await complete((await lease())[0], 0);
    expect(await lease()).toEqual([]);
    const d = await details("approve-me", runId);
    expect(d.status).toBe(7);
    expect(d.statusLabel).toBe("waiting");
    expect(nodeOf(d, "deploy").statusLabel).toBe("waiting");
    const list = await api("GET", "/dag-runs?name=approve-me&status=7");
    expect(list.body.dagRuns.map((r: { dagRunId: string }) => r.dagRunId)).toEqual([runId]);
    // It keeps its admission slot: GET /queues lists it among the DAG's running runs.
    const queues = await api("GET", "/queues");
    const own = queues.body.queues.find((q: { name: string }) => q.name === "approve-me");
    expect(own.running.map((r: { dagRunId: string; status: number }) => [r.dagRunId, r.status])).toEqual([[runId, 7]]);

    const r = await extApi("POST", `/dag-runs/approve-me/${runId}/steps/deploy/approve`, {}, ApprovalResponse);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ stepName: "deploy", statusLabel: "not_started" });
    expect((await details("approve-me", runId)).statusLabel).toBe("running");
    const [deploy] = await lease();
    expect(deploy.stepName).toBe("deploy");
    await complete(deploy, 0);
    expect((await details("approve-me", runId)).statusLabel).toBe("succeeded");

    const again = await extApi("POST", `/dag-runs/approve-me/${runId}/steps/deploy/approve`, {}, ApprovalResponse);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({
      code: "bad_request",
      message: 'step "deploy" is not waiting for approval (it is succeeded)',
      details: { field: "stepName", status: "succeeded" },
    });
  });

  it("rejection ends the run rejected and aborts what depended on the step", async () => {
    await createDag("reject-me", `${SPEC}  - name: after\n    command: echo after\n    depends: [deploy]\n`);
    const runId = await startDag("reject-me");
    await complete((await lease())[0], 0);
    const r = await extApi(
      "POST",
      `/dag-runs/reject-me/${runId}/steps/deploy/reject`,
      { reason: "freeze" },
      ApprovalResponse,
    );
    expect(r.body).toEqual({ stepName: "deploy", statusLabel: "rejected" });
    const d = await details("reject-me", runId);
    expect(d.status).toBe(8);
    expect(d.statusLabel).toBe("rejected");
    expect(nodeOf(d, "deploy").statusLabel).toBe("rejected");
    expect(nodeOf(d, "deploy").error).toBe("rejected: freeze");
    expect(nodeOf(d, "after").statusLabel).toBe("aborted");
    expect(await lease()).toEqual([]);
    const list = await api("GET", "/dag-runs?name=reject-me&status=8");
    expect(list.body.dagRuns).toHaveLength(1);
  });

  it("refuses an unknown step, a step that is not waiting and a bad body, changing nothing", async () => {
    await createDag("approve-bad", SPEC);
    const runId = await startDag("approve-bad");
    const base = `/dag-runs/approve-bad/${runId}/steps`;
    const unknown = await extApi("POST", `${base}/nope/approve`, {}, ApprovalResponse);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("not_found");
    const early = await extApi("POST", `${base}/deploy/reject`, {}, ApprovalResponse);
    expect(early.status).toBe(400);
    expect(early.body.code).toBe("bad_request");
    const badBody = await extApi("POST", `${base}/deploy/approve`, { reason: 5 }, ApprovalResponse);
    expect(badBody.status).toBe(400);
    expect(badBody.body.code).toBe("bad_request");
    const noRun = await extApi("POST", "/dag-runs/approve-bad/no-such-run/steps/deploy/approve", {}, ApprovalResponse);
    expect(noRun.status).toBe(404);
    const d = await details("approve-bad", runId);
    expect(d.statusLabel).toBe("running");
    expect(nodeOf(d, "deploy").statusLabel).toBe("not_started");
  });

  it("is described in /openapi.json", async () => {
    const res = await app.request("/api/v2/openapi.json", {}, env);
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    for (const op of ["approve", "reject"]) {
      expect(doc.paths[`/dag-runs/{name}/{dagRunId}/steps/{stepName}/${op}`]).toMatchObject({
        post: { summary: expect.any(String) },
      });
    }
  });
});
