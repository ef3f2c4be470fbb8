// /dag-runs/{name}/{dagRunId}/sub-dag-runs/...: the sub-DAG runs a run called (src/run/sub-runs.ts),
// reached through the run above them, with the same details, logs, live socket and step status
// as a run of their own.
import { Hono } from "hono";
import { db, listSubRuns } from "../db/queries";
import type { Env } from "../env";
import { liveDocs } from "../openapi/live";
import { dagu } from "../openapi/route-docs";
import { type RunStatus, runStatusCode } from "../status";
import { findRun, findSubRun } from "./find-run";
import { iso } from "./present/run-summary";
import { runDetailsOfRow } from "./run-details";
import { openLive, requireUpgrade, runLog, stepLog } from "./run-logs";
import { STEP_LOG, windowQuery } from "./run-queries";
import { StepStatusRequest, setStepStatus } from "./run-steps";
import { json, query } from "./validate";

export const subDagRuns = new Hono<{ Bindings: Env }>()
  .get("/:name/:dagRunId/sub-dag-runs", dagu("getSubDAGRuns"), async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const subs = await listSubRuns(db(c.env.DB), row.runId);
    return c.json({
      subRuns: subs.map((r) => ({
        dagRunId: r.runId,
        params: r.params,
        status: runStatusCode(r.status as RunStatus),
        statusLabel: r.status,
        startedAt: iso(r.startedAt),
        ...(r.finishedAt && { finishedAt: iso(r.finishedAt) }),
        // dagflare's additions: which DAG it ran and which run called it.
        name: r.dagName,
        parentDAGRunId: r.parentRunId,
      })),
    });
  })
  .get("/:name/:dagRunId/sub-dag-runs/:subDAGRunId", dagu("getSubDAGRunDetails"), async (c) =>
    c.json({ dagRunDetails: await runDetailsOfRow(c.env, await findSubRun(c)) }),
  )
  .get("/:name/:dagRunId/sub-dag-runs/:subDAGRunId/live", liveDocs(true), async (c) => {
    requireUpgrade(c);
    return openLive(c, await findSubRun(c));
  })
  .get("/:name/:dagRunId/sub-dag-runs/:subDAGRunId/log", dagu("getSubDAGRunLog"), query(windowQuery), async (c) =>
    runLog(c, await findSubRun(c), c.req.valid("query")),
  )
  .get(
    "/:name/:dagRunId/sub-dag-runs/:subDAGRunId/steps/:stepName/log",
    dagu("getSubDAGRunStepLog", STEP_LOG),
    query(windowQuery),
    async (c) => stepLog(c, await findSubRun(c), c.req.valid("query")),
  )
  .patch(
    "/:name/:dagRunId/sub-dag-runs/:subDAGRunId/steps/:stepName/status",
    dagu("updateSubDAGRunStepStatus"),
    json(StepStatusRequest),
    async (c) => setStepStatus(c, await findSubRun(c), c.req.valid("json")),
  );
