// /dag-runs: run history (D1), starting a run from a spec, one run's details, and what an operator
// does to a whole run (dequeue, reschedule, stop, retry, cleanup). A run's steps, logs and sub-DAG
// runs have sub-apps of their own (run-steps.ts, run-logs.ts, sub-dag-runs.ts), mounted beside it.
import { Hono } from "hono";
import { z } from "zod";
import { checkNewDagName, checkQueueOverride, parseOrThrow } from "../dags/catalogue";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { dagflare, dagu, errorResponse, jsonResponse } from "../openapi/route-docs";
import { expiredRuns, REMOVE_BATCH, removeRuns } from "../run/retention";
import { runSnapshot, startRun } from "../run/start-run";
import { actedBy, recordRunAction, runActionsOf } from "../run-actions";
import { RunOutputs } from "../shared/protocol";
import { isTerminalRun } from "../status";
import { admission, runStub } from "../stubs";
import { timingMark } from "../timing";
import { emptyOk } from "./empty";
import { findRun } from "./find-run";
import { presentOutputs } from "./present/run-outputs";
import { abortDequeued } from "./queues";
import { runDetailsOfRow } from "./run-details";
import { listQuery, listSummaries, RUN_PAGES } from "./run-queries";
import { json, query } from "./validate";

/** dagflare's addition (daggle's cleanup): remove finished runs older than an age. */
export const CleanupRequest = z.object({
  olderThanDays: z.number().min(0).max(36_500),
  /** List what would be removed, remove nothing. */
  dryRun: z.boolean().default(false),
});
export const CleanupResponse = z.object({
  removed: z.number().int(),
  dagRunIds: z.array(z.string()),
  dryRun: z.boolean(),
  /** More runs qualify than one call removes: call again. */
  hasMore: z.boolean(),
});

/** POST .../retry: the contract's fields, plus dagflare's `dependents` and `failedOnly`. */
export const RetryRequest = z.object({
  /** The run to retry: this run's own id (a retry reruns it in place). */
  dagRunId: z.string(),
  /** Only this step (the contract's field). */
  stepName: z.string().optional(),
  /** With stepName: every step downstream of it too (dagflare's addition). */
  dependents: z.boolean().optional(),
  /** Only the failed, aborted and rejected steps (dagflare's addition, Cyclonetix's rerun). */
  failedOnly: z.boolean().optional(),
});

/** The body of POST /dag-runs and /dag-runs/enqueue, less what only one of them takes. */
const InlineRunFields = z.object({
  spec: z.string(),
  name: z.string().optional(),
  params: z.string().optional(),
  dagRunId: z.string().optional(),
});

export const dagRuns = new Hono<{ Bindings: Env }>()
  .get("/", dagu("listDAGRuns", RUN_PAGES), query(listQuery), async (c) =>
    c.json(await listSummaries(c.env, c.req.valid("query"))),
  )
  .post(
    "/",
    dagu("executeDAGRunFromSpec"),
    json(InlineRunFields.extend({ singleton: z.boolean().optional() })),
    async (c) => {
      const body = c.req.valid("json");
      const { dag } = parseOrThrow(body.spec, body.name);
      const { runId } = await startRun(c.env, dag, body);
      await recordRunAction(c.env, { runId, action: "start", by: actedBy(c) });
      timingMark(c.env, "actionRecorded", runId);
      return c.json({ dagRunId: runId });
    },
  )
  .post(
    "/enqueue",
    dagu("enqueueDAGRunFromSpec"),
    json(InlineRunFields.extend({ queue: z.string().optional() })),
    async (c) => {
      const body = c.req.valid("json");
      checkQueueOverride(body.queue);
      const { dag } = parseOrThrow(body.spec, body.name);
      const { runId } = await startRun(c.env, dag, { ...body, enqueue: true });
      await recordRunAction(c.env, { runId, action: "enqueue", by: actedBy(c) });
      return c.json({ dagRunId: runId });
    },
  )
  .post(
    "/cleanup",
    dagflare({
      summary: "Remove finished runs older than an age, with their stored state",
      tags: ["dag-runs"],
      responses: { "200": jsonResponse("What was removed (or would be, with dryRun)", CleanupResponse) },
    }),
    json(CleanupRequest),
    async (c) => {
      const body = c.req.valid("json");
      const rows = await expiredRuns(c.env, body.olderThanDays);
      const removed = body.dryRun ? [] : await removeRuns(c.env, rows);
      return c.json({
        removed: body.dryRun ? 0 : removed.length,
        dagRunIds: body.dryRun ? rows.map((r) => r.runId) : removed,
        dryRun: body.dryRun,
        hasMore: rows.length === REMOVE_BATCH,
      } satisfies z.infer<typeof CleanupResponse>);
    },
  )
  .get("/:name", dagu("listDAGRunsByName", RUN_PAGES), query(listQuery), async (c) =>
    c.json(await listSummaries(c.env, c.req.valid("query"), c.req.param("name"))),
  )
  .get(
    "/:name/:dagRunId",
    dagu("getDAGRunDetails", {
      description:
        "dagflare: a queued run has `waitingFor`, why it has not started; nodes carry `attempt`, `exitCode` and the `runnerId` of a running step. The same object is pushed over the live socket (`.../live`).",
    }),
    async (c) => {
      const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
      const [details, actions] = await Promise.all([runDetailsOfRow(c.env, row), runActionsOf(c.env, row.runId)]);
      return c.json({ dagRunDetails: { ...details, ...(actions.length && { actions }) } });
    },
  )
  .get("/:name/:dagRunId/dequeue", dagu("dequeueDAGRun"), async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    if (!(await admission(c.env).dequeue(row.runId))) {
      throw new AppError("bad_request", 400, `DAG-run ${row.runId} is not queued (${row.status})`);
    }
    await abortDequeued(c, [row.runId], "dequeue");
    return emptyOk();
  })
  .post(
    "/:name/:dagRunId/reschedule",
    dagu("rescheduleDAGRun"),
    json(z.object({ dagRunId: z.string().optional(), dagName: z.string().optional() })),
    async (c) => {
      const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
      const body = c.req.valid("json");
      if (body.dagName !== undefined) checkNewDagName(body.dagName, "dagName");
      // The historic run's own definition and parameters, as Dagu's reschedule does.
      const snap = await runSnapshot(c.env, row.runId, row.dagName);
      const dag = body.dagName ? { ...snap.dag, name: body.dagName } : snap.dag;
      const started = await startRun(c.env, dag, { params: snap.paramsText, dagRunId: body.dagRunId });
      await recordRunAction(c.env, { runId: started.runId, action: "reschedule", by: actedBy(c) });
      return c.json({ dagRunId: started.runId, queued: started.queued });
    },
  )
  .post("/:name/:dagRunId/stop", dagu("terminateDAGRun"), async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const snap = await runSnapshot(c.env, row.runId, row.dagName);
    if (isTerminalRun(snap.state.status)) {
      throw new AppError("not_running", 400, `DAG-run ${row.runId} is not running (${snap.state.status})`);
    }
    unwrap(await runStub(c.env, row.runId).stop());
    await recordRunAction(c.env, { runId: row.runId, action: "stop", by: actedBy(c) });
    return emptyOk();
  })
  .post(
    "/:name/:dagRunId/retry",
    dagu("retryDAGRun", {
      description:
        "dagflare: the retry is in place (same run id, params, env and directory); `dependents` (with stepName) reruns the steps downstream too, `failedOnly` only the failed, aborted and rejected steps.",
    }),
    json(RetryRequest),
    async (c) => {
      const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
      const body = c.req.valid("json");
      if (body.dagRunId !== row.runId) {
        throw new AppError(
          "bad_request",
          400,
          `dagRunId must be this run's id (${row.runId}): a retry reruns it in place`,
          {
            field: "dagRunId",
          },
        );
      }
      if (body.dependents && body.stepName === undefined) {
        throw new AppError("bad_request", 400, "dependents needs a stepName", { field: "dependents" });
      }
      if (body.failedOnly && body.stepName !== undefined) {
        throw new AppError("bad_request", 400, "give either stepName or failedOnly, not both", { field: "failedOnly" });
      }
      unwrap(await runStub(c.env, row.runId).retry(body));
      await recordRunAction(c.env, { runId: row.runId, step: body.stepName, action: "retry", by: actedBy(c) });
      return emptyOk();
    },
  )
  .get(
    "/:name/:dagRunId/outputs",
    dagflare({
      summary: "Every step's output variables",
      tags: ["dag-runs"],
      responses: { "200": jsonResponse("The outputs", RunOutputs), default: errorResponse("Error") },
    }),
    async (c) => {
      const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
      return c.json(presentOutputs(await runSnapshot(c.env, row.runId)) satisfies RunOutputs);
    },
  );

/**
 * GET /dags/{fileName}/dag-runs/{dagRunId}: one run of a DAG, as the contract's `{ dagRun }`
 * (`latest` works). A DAG's file name is its name, so the run is found as under /dag-runs.
 */
export const dagRunOfDag = new Hono<{ Bindings: Env }>().get(
  "/:fileName/dag-runs/:dagRunId",
  dagu("getDAGDAGRunDetails"),
  async (c) => {
    const row = await findRun(c.env, c.req.param("fileName"), c.req.param("dagRunId"));
    return c.json({ dagRun: await runDetailsOfRow(c.env, row) });
  },
);
