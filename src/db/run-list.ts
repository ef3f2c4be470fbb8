// GET /dag-runs and GET /dag-runs/{name} in SQL: filters, newest first, one page, and the count
// of all matches, in one D1 batch. The page reads its rows through the top-level run indexes
// (migrations/0005_list_indexes.sql); the step statistics column is not read.
import { and, count, desc, eq, getTableColumns, gte, inArray, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { RunStatus } from "../status";
import type { db } from "./queries";
import { type DagRunRow, dagRuns } from "./schema";

type Db = ReturnType<typeof db>;

export interface RunListQuery {
  /** Runs of exactly this DAG (the path's name). */
  dagName?: string;
  /** A part of the DAG name, any case (the query's `name`, as Dagu matches it). */
  dagNameContains?: string;
  statuses?: RunStatus[];
  /** A part of the run id, any case. */
  runIdContains?: string;
  fromMs?: number;
  toMs?: number;
  page: number;
  perPage: number;
}

function where(q: RunListQuery): SQL | undefined {
  // Sub-DAG runs are reached through the run that called them, as in Dagu.
  const parts: SQL[] = [isNull(dagRuns.parentRunId)];
  if (q.dagName !== undefined) parts.push(eq(dagRuns.dagName, q.dagName));
  if (q.dagNameContains) parts.push(sql`instr(lower(${dagRuns.dagName}), ${q.dagNameContains.toLowerCase()}) > 0`);
  if (q.runIdContains) parts.push(sql`instr(lower(${dagRuns.runId}), ${q.runIdContains.toLowerCase()}) > 0`);
  if (q.fromMs !== undefined) parts.push(gte(dagRuns.queuedAt, q.fromMs));
  if (q.toMs !== undefined) parts.push(lte(dagRuns.queuedAt, q.toMs));
  if (q.statuses !== undefined) parts.push(inArray(dagRuns.status, q.statuses));
  return and(...parts);
}

/** Every column a summary shows (not `steps`, a finished run's statistics for /metrics). */
const { steps: _notShown, ...summaryColumns } = getTableColumns(dagRuns);

export async function listRunPage(d: Db, q: RunListQuery): Promise<{ rows: DagRunRow[]; total: number }> {
  const w = where(q);
  const [rows, counted] = await d.batch([
    d
      .select(summaryColumns)
      .from(dagRuns)
      .where(w)
      .orderBy(desc(dagRuns.queuedAt), desc(dagRuns.runId))
      .limit(q.perPage)
      .offset((q.page - 1) * q.perPage),
    d.select({ n: count() }).from(dagRuns).where(w),
  ]);
  return { rows: rows.map((r) => ({ ...r, steps: null })), total: counted[0]?.n ?? 0 };
}
