// /dag-runs: run history (D1), run details and logs (the run's RunObject), stop.
import { Hono } from "hono";
import { z } from "zod";
import { db, deleteRun, finishedRunsBefore, getRun, latestRun, listRuns } from "../db/queries";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import type { RunOutputs } from "../protocol";
import { sliceLog } from "../run/log-slice";
import { runSnapshot, runStub, startRun } from "../run/start-run";
import { isTerminalRun, parseRunStatus, RUN_STATUSES, type RunStatus } from "../status";
import { DAG_NAME, parseOrThrow } from "./dags";
import { presentDetails, presentOutputs, presentSummaryFromRow } from "./present";
import { readJson, readQuery } from "./validate";

const LIST_LIMIT = 500;
/** Runs removed by one cleanup call; `hasMore` says to call again. */
const CLEANUP_BATCH = 200;

const listQuery = z.object({
  name: z.string().optional(),
  status: z.string().optional(),
  dagRunId: z.string().optional(),
  fromDate: z.coerce.number().int().optional(),
  toDate: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT).default(100),
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

async function listSummaries(env: Env, q: z.infer<typeof listQuery>, dagName?: string) {
  const rows = await listRuns(db(env.DB), {
    dagName: dagName ?? q.name,
    statuses: statusFilter(q.status),
    runId: q.dagRunId,
    fromMs: q.fromDate !== undefined ? q.fromDate * 1000 : undefined,
    toMs: q.toDate !== undefined ? q.toDate * 1000 : undefined,
    limit: q.limit,
  });
  return { dagRuns: rows.map(presentSummaryFromRow) };
}

/** The run's index row, checked against the DAG name in the path; `latest` is resolved. */
async function findRun(env: Env, name: string, runId: string): Promise<DagRunRow> {
  if (!DAG_NAME.test(name)) throw new AppError("bad_request", 400, `invalid DAG name "${name}"`, { field: "name" });
  const d = db(env.DB);
  const row = runId === "latest" ? await latestRun(d, name) : await getRun(d, runId);
  if (!row || row.dagName !== name) {
    throw new AppError(
      "not_found",
      404,
      runId === "latest" ? `DAG ${name} has no runs` : `DAG-run ${name}/${runId} not found`,
    );
  }
  return row;
}

export const dagRuns = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => c.json(await listSummaries(c.env, readQuery(c, listQuery))))
  .post("/", async (c) => {
    const body = await readJson(
      c,
      z.object({
        spec: z.string(),
        name: z.string().optional(),
        params: z.string().optional(),
        dagRunId: z.string().optional(),
        singleton: z.boolean().optional(),
      }),
    );
    const { dag } = parseOrThrow(body.spec, body.name);
    const dagRunId = await startRun(c.env, dag, body);
    return c.json({ dagRunId });
  })
  .post("/cleanup", async (c) => {
    const body = await readJson(c, CleanupRequest);
    const terminal = RUN_STATUSES.filter(isTerminalRun);
    const cutoff = Date.now() - body.olderThanDays * 86_400_000;
    const rows = await finishedRunsBefore(db(c.env.DB), cutoff, terminal, CLEANUP_BATCH);
    const removed: string[] = [];
    if (!body.dryRun) {
      for (const r of rows) {
        // The run's own storage first: if that fails, its index row stays and a later cleanup retries.
        const done = await runStub(c.env, r.runId).destroy();
        if (!done.ok) continue;
        await deleteRun(db(c.env.DB), r.runId);
        removed.push(r.runId);
      }
    }
    return c.json({
      removed: body.dryRun ? 0 : removed.length,
      dagRunIds: body.dryRun ? rows.map((r) => r.runId) : removed,
      dryRun: body.dryRun,
      hasMore: rows.length === CLEANUP_BATCH,
    } satisfies z.infer<typeof CleanupResponse>);
  })
  .get("/:name", async (c) => c.json(await listSummaries(c.env, readQuery(c, listQuery), c.req.param("name"))))
  .get("/:name/:dagRunId", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    return c.json({ dagRunDetails: presentDetails(await runSnapshot(c.env, row.runId)) });
  })
  .post("/:name/:dagRunId/stop", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const snap = await runSnapshot(c.env, row.runId);
    if (isTerminalRun(snap.state.status)) {
      throw new AppError("not_running", 400, `DAG-run ${row.runId} is not running (${snap.state.status})`);
    }
    unwrap(await runStub(c.env, row.runId).stop());
    return c.body(null, 200);
  })
  .get("/:name/:dagRunId/outputs", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    return c.json(presentOutputs(await runSnapshot(c.env, row.runId)) satisfies RunOutputs);
  })
  .get("/:name/:dagRunId/log", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const q = readQuery(c, windowQuery);
    const text = unwrap(await runStub(c.env, row.runId).runLog());
    return c.json(sliceLog(text, q));
  })
  .get("/:name/:dagRunId/steps/:stepName/log", async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const q = readQuery(c, windowQuery);
    const log = unwrap(await runStub(c.env, row.runId).stepLog(c.req.param("stepName"), q.stream, q.attempt));
    const slice = sliceLog(log.text, q);
    return c.json({ ...slice, attempt: log.attempt, droppedBytes: log.droppedBytes });
  });
