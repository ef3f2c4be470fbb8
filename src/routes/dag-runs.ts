// /dag-runs: run history (D1), run details and logs (the run's RunObject), stop.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { db, getRun, latestRun, listSubRuns } from "../db/queries";
import { listRunPage } from "../db/run-list";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { admission } from "../queue/queue-object";
import { sliceLog } from "../run/log-slice";
import { expiredRuns, REMOVE_BATCH, removeRuns } from "../run/retention";
import { LATEST, runSnapshot, runStub, startRun } from "../run/start-run";
import { ApprovalRequest, type ApprovalResponse, type RunOutputs } from "../shared/protocol";
import { isTerminalRun, parseRunStatus, type RunStatus, runStatusCode, type StepStatus } from "../status";
import { checkNewDagName, checkQueueOverride, DAG_NAME, parseOrThrow } from "./dags";
import { emptyOk } from "./empty";
import { iso, pagination, presentOutputs, presentSummaryFromRow } from "./present";
import { abortDequeued } from "./queues";
import { runDetailsOf } from "./run-details";
import { readJson, readQuery } from "./validate";

/** Most runs in one page of a run list. */
const MAX_RUNS_PER_PAGE = 500;

const listQuery = z.object({
  name: z.string().optional(),
  status: z.string().optional(),
  dagRunId: z.string().optional(),
  fromDate: z.string().optional(),
  toDate: z.string().optional(),
  /** dagflare's additions: server-side pages (`limit` is the older name of `perPage`). */
  page: z.coerce.number().int().min(1).default(1),
  perPage: z.coerce.number().int().min(1).max(MAX_RUNS_PER_PAGE).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_RUNS_PER_PAGE).optional(),
});

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

const windowQuery = z.object({
  tail: z.coerce.number().int().min(1).optional(),
  head: z.coerce.number().int().min(1).optional(),
  offset: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  stream: z.enum(["stdout", "stderr"]).default("stdout"),
  /** dagflare's addition: the attempt to read, the latest by default. */
  attempt: z.coerce.number().int().min(1).optional(),
});

function statusFilter(raw: string | undefined): RunStatus[] | undefined {
  if (raw === undefined || raw === "") return undefined;
  return raw.split(",").map((s) => {
    const status = parseRunStatus(s.trim());
    if (!status) throw new AppError("bad_request", 400, `unknown status "${s}"`, { field: "status" });
    return status;
  });
}

/** The contract's UnixTimestamp (seconds); an ISO 8601 time, as its description says, is taken too. */
function timeFilter(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const ms = /^-?\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (!Number.isFinite(ms)) {
    throw new AppError(
      "bad_request",
      400,
      `${field} must be a Unix time in seconds or an ISO 8601 time, not "${raw}"`,
      {
        field,
      },
    );
  }
  return ms;
}

/** A page of runs, newest first: of one DAG (the path's name), or of every DAG whose name has `name` in it. */
async function listSummaries(env: Env, q: z.infer<typeof listQuery>, dagName?: string) {
  const perPage = q.perPage ?? q.limit ?? 100;
  const { rows, total } = await listRunPage(db(env.DB), {
    dagName,
    dagNameContains: dagName === undefined ? q.name || undefined : undefined,
    statuses: statusFilter(q.status),
    runIdContains: q.dagRunId || undefined,
    fromMs: timeFilter(q.fromDate, "fromDate"),
    toMs: timeFilter(q.toDate, "toDate"),
    page: q.page,
    perPage,
  });
  return { dagRuns: rows.map(presentSummaryFromRow), pagination: pagination(total, q.page, perPage) };
}

/** The run's index row, checked against the DAG name in the path; `latest` is resolved. */
async function findRun(env: Env, name: string, runId: string): Promise<DagRunRow> {
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

/** Statuses PATCH .../steps/{stepName}/status may set, by the contract's NodeStatus code. */
const MANUAL_STATUSES: Record<number, StepStatus> = { 2: "failed", 3: "aborted", 4: "succeeded", 5: "skipped" };

/** POST .../steps/{stepName}/approve or /reject. */
async function decide(c: Context<{ Bindings: Env }>, approved: boolean) {
  const row = await findRun(c.env, c.req.param("name") ?? "", c.req.param("dagRunId") ?? "");
  const body = await readJson(c, ApprovalRequest);
  const stepName = c.req.param("stepName") ?? "";
  const done = unwrap(await runStub(c.env, row.runId).approve(stepName, approved, body.reason));
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
  .get("/", async (c) => c.json(await listSummaries(c.env, readQuery(c, listQuery))))
  .post("/", async (c) => {
    const body = await readJson(c, InlineRunFields.extend({ singleton: z.boolean().optional() }));
    const { dag } = parseOrThrow(body.spec, body.name);
    const { runId } = await startRun(c.env, dag, body);
    return c.json({ dagRunId: runId });
  })
  .post("/enqueue", async (c) => {
    const body = await readJson(c, InlineRunFields.extend({ queue: z.string().optional() }));
    checkQueueOverride(body.queue);
    const { dag } = parseOrThrow(body.spec, body.name);
    const { runId } = await startRun(c.env, dag, { ...body, enqueue: true });
    return c.json({ dagRunId: runId });
  })
  .post("/cleanup", async (c) => {
    const body = await readJson(c, CleanupRequest);
    const rows = await expiredRuns(c.env, body.olderThanDays);
    const removed = body.dryRun ? [] : await removeRuns(c.env, rows);
    return c.json({
      removed: body.dryRun ? 0 : removed.length,
      dagRunIds: body.dryRun ? rows.map((r) => r.runId) : removed,
      dryRun: body.dryRun,
      hasMore: rows.length === REMOVE_BATCH,
    } satisfies z.infer<typeof CleanupResponse>);
  })
  .get("/:name", async (c) => c.json(await listSummaries(c.env, readQuery(c, listQuery), c.req.param("name"))))
  .get("/:name/:dagRunId", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    return c.json({ dagRunDetails: await runDetails(c.env, row) });
  })
  .get("/:name/:dagRunId/dequeue", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    if (!(await admission(c.env).dequeue(row.runId))) {
      throw new AppError("bad_request", 400, `DAG-run ${row.runId} is not queued (${row.status})`);
    }
    await abortDequeued(c.env, [row.runId]);
    return emptyOk();
  })
  .post("/:name/:dagRunId/reschedule", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const body = await readJson(c, z.object({ dagRunId: z.string().optional(), dagName: z.string().optional() }));
    if (body.dagName !== undefined) checkNewDagName(body.dagName, "dagName");
    // The historic run's own definition and parameters, as Dagu's reschedule does.
    const snap = await runSnapshot(c.env, row.runId, row.dagName);
    const dag = body.dagName ? { ...snap.dag, name: body.dagName } : snap.dag;
    const started = await startRun(c.env, dag, { params: snap.paramsText, dagRunId: body.dagRunId });
    return c.json({ dagRunId: started.runId, queued: started.queued });
  })
  .post("/:name/:dagRunId/stop", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const snap = await runSnapshot(c.env, row.runId, row.dagName);
    if (isTerminalRun(snap.state.status)) {
      throw new AppError("not_running", 400, `DAG-run ${row.runId} is not running (${snap.state.status})`);
    }
    unwrap(await runStub(c.env, row.runId).stop());
    return emptyOk();
  })
  .post("/:name/:dagRunId/retry", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const body = await readJson(c, RetryRequest);
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
    return emptyOk();
  })
  .patch("/:name/:dagRunId/steps/:stepName/status", async (c) =>
    setStepStatus(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"))),
  )
  .post("/:name/:dagRunId/steps/:stepName/approve", (c) => decide(c, true))
  .post("/:name/:dagRunId/steps/:stepName/reject", (c) => decide(c, false))
  .get("/:name/:dagRunId/live", async (c) => {
    requireUpgrade(c);
    return openLive(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")));
  })
  .get("/:name/:dagRunId/outputs", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    return c.json(presentOutputs(await runSnapshot(c.env, row.runId)) satisfies RunOutputs);
  })
  .get("/:name/:dagRunId/log", async (c) =>
    runLog(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"))),
  )
  .get("/:name/:dagRunId/steps/:stepName/log", async (c) =>
    stepLog(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"))),
  )
  // Sub-DAG runs, reached through a run above them (src/run/sub-runs.ts).
  .get("/:name/:dagRunId/sub-dag-runs", async (c) => {
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
  .get("/:name/:dagRunId/sub-dag-runs/:subDAGRunId", async (c) =>
    c.json({ dagRunDetails: await runDetails(c.env, await findSubRun(c)) }),
  )
  .get("/:name/:dagRunId/sub-dag-runs/:subDAGRunId/live", async (c) => {
    requireUpgrade(c);
    return openLive(c, await findSubRun(c));
  })
  .get("/:name/:dagRunId/sub-dag-runs/:subDAGRunId/log", async (c) => runLog(c, await findSubRun(c)))
  .get("/:name/:dagRunId/sub-dag-runs/:subDAGRunId/steps/:stepName/log", async (c) => stepLog(c, await findSubRun(c)))
  .patch("/:name/:dagRunId/sub-dag-runs/:subDAGRunId/steps/:stepName/status", async (c) =>
    setStepStatus(c, await findSubRun(c)),
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

async function runLog(c: Ctx, row: DagRunRow) {
  const q = readQuery(c, windowQuery);
  const text = unwrap(await runStub(c.env, row.runId).runLog());
  return c.json(sliceLog(text, q));
}

async function stepLog(c: Ctx, row: DagRunRow) {
  const q = readQuery(c, windowQuery);
  const { stream, attempt, ...window } = q;
  return c.json(
    unwrap(await runStub(c.env, row.runId).stepLog(c.req.param("stepName") ?? "", stream, window, attempt)),
  );
}

async function setStepStatus(c: Ctx, row: DagRunRow) {
  const body = await readJson(c, z.object({ status: z.number().int() }));
  const status = MANUAL_STATUSES[body.status];
  if (!status) {
    throw new AppError("bad_request", 400, "status must be 2 (failed), 3 (aborted), 4 (succeeded) or 5 (skipped)", {
      field: "status",
    });
  }
  unwrap(await runStub(c.env, row.runId).setStepStatus(c.req.param("stepName") ?? "", status));
  return emptyOk();
}

/**
 * GET /dags/{fileName}/dag-runs/{dagRunId}: one run of a DAG, as the contract's `{ dagRun }`
 * (`latest` works). A DAG's file name is its name, so the run is found as under /dag-runs.
 */
export const dagRunOfDag = new Hono<{ Bindings: Env }>().get("/:fileName/dag-runs/:dagRunId", async (c) => {
  const row = await findRun(c.env, c.req.param("fileName"), c.req.param("dagRunId"));
  return c.json({ dagRun: await runDetails(c.env, row) });
});
