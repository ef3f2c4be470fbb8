// /dag-runs: run history (D1), run details and logs (the run's RunObject), stop.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { checkNewDagName, checkQueueOverride, parseOrThrow } from "../dags/catalogue";
import { db, getRun, latestRun, listSubRuns } from "../db/queries";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { liveDocs } from "../openapi/live";
import { dagflare, dagu, errorResponse, jsonResponse } from "../openapi/route-docs";
import { sliceLog } from "../run/log-slice";
import { expiredRuns, REMOVE_BATCH, removeRuns } from "../run/retention";
import { LATEST, runSnapshot, startRun } from "../run/start-run";
import { actedBy, recordRunAction, runActionsOf } from "../run-actions";
import { ApprovalRequest, ApprovalResponse, RunOutputs } from "../shared/protocol";
import { type FinalStepStatus, isTerminalRun, type RunStatus, runStatusCode } from "../status";
import { admission, runStub } from "../stubs";
import { DAG_NAME } from "./dags";
import { emptyOk } from "./empty";
import { iso, presentOutputs } from "./present";
import { abortDequeued } from "./queues";
import { runDetailsOf } from "./run-details";
import { listQuery, listSummaries, RUN_PAGES, STEP_LOG, windowQuery } from "./run-queries";
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

/** The run's index row, checked against the DAG name in the path; `latest` is resolved. */
export async function findRun(env: Env, name: string, runId: string): Promise<DagRunRow> {
  if (!DAG_NAME.test(name)) throw new AppError("bad_request", 400, `invalid DAG name "${name}"`, { field: "name" });
  const d = db(env.DB);
  const row = runId === LATEST ? await latestRun(d, name) : await getRun(d, runId);
  if (!row || row.dagName !== name) {
    throw new AppError(
      "not_found",
      404,
      runId === LATEST ? `DAG ${name} has no runs` : `DAG-run ${name}/${runId} not found`,
    );
  }
  return row;
}

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

const StepStatusRequest = z.object({ status: z.number().int() });

/** Statuses PATCH .../steps/{stepName}/status may set, by the contract's NodeStatus code. */
const MANUAL_STATUSES: Record<number, FinalStepStatus> = { 2: "failed", 3: "aborted", 4: "succeeded", 5: "skipped" };

/** POST .../steps/{stepName}/approve or /reject. */
async function decide(c: Context<{ Bindings: Env }>, approved: boolean, body: z.infer<typeof ApprovalRequest>) {
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
      const [details, actions] = await Promise.all([runDetails(c.env, row), runActionsOf(c.env, row.runId)]);
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
  )
  .get("/:name/:dagRunId/live", liveDocs(false), async (c) => {
    requireUpgrade(c);
    return openLive(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")));
  })
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
  )
  .get("/:name/:dagRunId/log", dagu("getDAGRunLog"), query(windowQuery), async (c) =>
    runLog(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")), c.req.valid("query")),
  )
  .get("/:name/:dagRunId/steps/:stepName/log", dagu("getDAGRunStepLog", STEP_LOG), query(windowQuery), async (c) =>
    stepLog(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")), c.req.valid("query")),
  )
  // Sub-DAG runs, reached through a run above them (src/run/sub-runs.ts).
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
    c.json({ dagRunDetails: await runDetails(c.env, await findSubRun(c)) }),
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

type Ctx = Context<{ Bindings: Env }>;

/** A sub-DAG run below the run in the path: one it called, or any in its chain when it is the top. */
async function findSubRun(c: Ctx): Promise<DagRunRow> {
  const row = await findRun(c.env, c.req.param("name") ?? "", c.req.param("dagRunId") ?? "");
  const subId = c.req.param("subDAGRunId") ?? "";
  const sub = await getRun(db(c.env.DB), subId);
  if (!sub || (sub.parentRunId !== row.runId && sub.rootRunId !== row.runId)) {
    throw new AppError("not_found", 404, `sub DAG-run ${subId} of ${row.dagName}/${row.runId} not found`);
  }
  return sub;
}

async function runDetails(env: Env, row: DagRunRow) {
  return runDetailsOf(env, await runSnapshot(env, row.runId, row.dagName));
}

/** The live socket is a WebSocket only (docs/live.md). */
function requireUpgrade(c: Ctx): void {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new AppError("bad_request", 426, "this endpoint is a WebSocket: send Upgrade: websocket", {
      field: "Upgrade",
    });
  }
}

/** Hands the upgrade to the run's RunObject, which keeps the socket (src/live/live-run.ts). */
function openLive(c: Ctx, row: DagRunRow): Promise<Response> {
  const url = new URL("https://run.internal/live");
  // A renamed DAG's runs are listed under the new name; the socket shows them so too.
  url.searchParams.set("dagName", row.dagName);
  return runStub(c.env, row.runId).fetch(new Request(url, c.req.raw));
}

async function runLog(c: Ctx, row: DagRunRow, q: z.infer<typeof windowQuery>) {
  const text = unwrap(await runStub(c.env, row.runId).runLog());
  return c.json(sliceLog(text, q));
}

async function stepLog(c: Ctx, row: DagRunRow, q: z.infer<typeof windowQuery>) {
  const { stream, attempt, ...window } = q;
  return c.json(
    unwrap(await runStub(c.env, row.runId).stepLog(c.req.param("stepName") ?? "", stream, window, attempt)),
  );
}

async function setStepStatus(c: Ctx, row: DagRunRow, body: z.infer<typeof StepStatusRequest>) {
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

/**
 * GET /dags/{fileName}/dag-runs/{dagRunId}: one run of a DAG, as the contract's `{ dagRun }`
 * (`latest` works). A DAG's file name is its name, so the run is found as under /dag-runs.
 */
export const dagRunOfDag = new Hono<{ Bindings: Env }>().get(
  "/:fileName/dag-runs/:dagRunId",
  dagu("getDAGDAGRunDetails"),
  async (c) => {
    const row = await findRun(c.env, c.req.param("fileName"), c.req.param("dagRunId"));
    return c.json({ dagRun: await runDetails(c.env, row) });
  },
);
