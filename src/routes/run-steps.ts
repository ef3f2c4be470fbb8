// /dag-runs/{name}/{dagRunId}/steps/{stepName}/...: what an operator does to one step of a run by
// hand: set its status, approve or reject it. Sub-DAG runs take the same status change
// (sub-dag-runs.ts).
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { dagflare, dagu, jsonResponse } from "../openapi/route-docs";
import { actedBy, recordRunAction } from "../run-actions";
import { ApprovalRequest, ApprovalResponse } from "../shared/protocol";
import type { FinalStepStatus } from "../status";
import { runStub } from "../stubs";
import { emptyOk } from "./empty";
import { findRun } from "./find-run";
import { json } from "./validate";

type Ctx = Context<{ Bindings: Env }>;

export const StepStatusRequest = z.object({ status: z.number().int() });

/** Statuses PATCH .../steps/{stepName}/status may set, by the contract's NodeStatus code. */
const MANUAL_STATUSES: Record<number, FinalStepStatus> = { 2: "failed", 3: "aborted", 4: "succeeded", 5: "skipped" };

/** POST .../steps/{stepName}/approve or /reject. */
async function decide(c: Ctx, approved: boolean, body: z.infer<typeof ApprovalRequest>) {
  const row = await findRun(c.env, c.req.param("name") ?? "", c.req.param("dagRunId") ?? "");
  const stepName = c.req.param("stepName") ?? "";
  const done = unwrap(await runStub(c.env, row.runId).approve(stepName, approved, body.reason));
  await recordRunAction(c.env, {
    runId: row.runId,
    step: stepName,
    action: approved ? "approve" : "reject",
    by: actedBy(c),
  });
  return c.json({ stepName, statusLabel: done.status } satisfies ApprovalResponse);
}

export const runSteps = new Hono<{ Bindings: Env }>()
  .patch(
    "/:name/:dagRunId/steps/:stepName/status",
    dagu("updateDAGRunStepStatus"),
    json(StepStatusRequest),
    async (c) =>
      setStepStatus(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")), c.req.valid("json")),
  )
  .post(
    "/:name/:dagRunId/steps/:stepName/approve",
    dagflare({
      summary: "Approve a step waiting for approval: it runs (or, without a command, succeeds)",
      tags: ["dag-runs"],
      responses: { "200": jsonResponse("The step and its status", ApprovalResponse) },
    }),
    json(ApprovalRequest),
    (c) => decide(c, true, c.req.valid("json")),
  )
  .post(
    "/:name/:dagRunId/steps/:stepName/reject",
    dagflare({
      summary: "Reject a step waiting for approval: the run stops and ends rejected",
      tags: ["dag-runs"],
      responses: { "200": jsonResponse("The step and its status", ApprovalResponse) },
    }),
    json(ApprovalRequest),
    (c) => decide(c, false, c.req.valid("json")),
  );

export async function setStepStatus(c: Ctx, row: DagRunRow, body: z.infer<typeof StepStatusRequest>) {
  const status = MANUAL_STATUSES[body.status];
  if (!status) {
    throw new AppError("bad_request", 400, "status must be 2 (failed), 3 (aborted), 4 (succeeded) or 5 (skipped)", {
      field: "status",
    });
  }
  unwrap(await runStub(c.env, row.runId).setStepStatus(c.req.param("stepName") ?? "", status));
  await recordRunAction(c.env, {
    runId: row.runId,
    step: c.req.param("stepName"),
    action: "set-status",
    by: actedBy(c),
  });
  return emptyOk();
}
