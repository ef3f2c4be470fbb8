// The queries of run lists and log windows: their schemas (which the OpenAPI document shows as
// dagflare's additions to Dagu's parameters), the filters they turn into, and one page of runs.
import { z } from "zod";
import { db } from "../db/queries";
import { listRunPage } from "../db/run-list";
import type { Env } from "../env";
import { AppError } from "../errors";
import { paginationProperty } from "../openapi/extended";
import { parseRunStatus, type RunStatus } from "../status";
import { pagination, presentSummaryFromRow } from "./present/run-summary";

/** Most runs in one page of a run list. */
const MAX_RUNS_PER_PAGE = 500;

export const listQuery = z.object({
  name: z.string().optional(),
  status: z.string().optional(),
  dagRunId: z.string().optional(),
  fromDate: z.string().optional(),
  toDate: z.string().optional(),
  page: z.coerce.number().int().min(1).default(1).describe("dagflare: the page to return, from 1."),
  perPage: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_RUNS_PER_PAGE)
    .optional()
    .describe("dagflare: runs per page, 100 by default."),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_RUNS_PER_PAGE)
    .optional()
    .describe("dagflare: the older name of perPage."),
});

/** What dagflare adds to Dagu's run lists. */
export const RUN_PAGES = {
  description:
    "dagflare: `name` matches a part of the DAG name, in any case (as Dagu does); the runs come newest first in server-side pages (`page`, `perPage`), with `pagination` in the answer.",
  responseProperties: paginationProperty,
};

/** What dagflare adds to Dagu's step logs. */
export const STEP_LOG = {
  description:
    "dagflare: `attempt` picks an attempt (the latest by default); the answer has `attempt` and `droppedBytes`.",
  responseProperties: {
    attempt: { type: "integer" },
    droppedBytes: { type: "integer", description: "Log bytes dropped (past the size cap, or by a cut-off runner)." },
    endsWithNewline: {
      type: "boolean",
      description: "The last line ended with a newline, which `content` leaves out (as Dagu's does).",
    },
  },
};

export const windowQuery = z.object({
  tail: z.coerce.number().int().min(1).optional(),
  head: z.coerce.number().int().min(1).optional(),
  offset: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  stream: z.enum(["stdout", "stderr"]).default("stdout"),
  attempt: z.coerce.number().int().min(1).optional().describe("dagflare: which attempt; the latest by default."),
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
export async function listSummaries(env: Env, q: z.infer<typeof listQuery>, dagName?: string) {
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
