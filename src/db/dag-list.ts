// GET /dags in SQL: filter, sort and paginate in D1, read the specs of the listed rows only, and
// fetch the recent runs of the whole page in one query. The cost follows the page, not the table.
import { count, type SQL, sql } from "drizzle-orm";
import type { RunStatus } from "../status";
import type { db } from "./queries";
import { type DagRunRow, dagRuns, dags } from "./schema";

type Db = ReturnType<typeof db>;

export interface DagListQuery {
  /** A part of the name, any case. */
  nameContains?: string;
  tag?: string;
  /** The latest run's status; a DAG without runs counts as not_started. */
  latestStatus?: RunStatus;
  sort: "name" | "nextRun";
  order: "asc" | "desc";
  page: number;
  perPage: number;
}

export interface DagListRow {
  name: string;
  parsed: string | null;
  errors: string;
  suspended: boolean;
  nextRunAt: number | null;
}

/** Runs shown per DAG in the list's strip of recent statuses. */
export const RECENT_RUNS = 10;

/** The latest top-level run's status of the DAG of the outer row (dagu's "latest run"). */
const latestStatus = sql`COALESCE((SELECT r.status FROM ${dagRuns} r WHERE r.dag_name = ${dags.name}
  AND r.parent_run_id IS NULL ORDER BY r.queued_at DESC, r.run_id DESC LIMIT 1), 'not_started')`;

function where(q: DagListQuery): SQL {
  const parts: SQL[] = [sql`1 = 1`];
  if (q.nameContains) parts.push(sql`instr(lower(${dags.name}), ${q.nameContains.toLowerCase()}) > 0`);
  if (q.tag !== undefined) parts.push(sql`EXISTS (SELECT 1 FROM json_each(${dags.tags}) t WHERE t.value = ${q.tag})`);
  if (q.latestStatus !== undefined) parts.push(sql`${latestStatus} = ${q.latestStatus}`);
  return sql.join(parts, sql` AND `);
}

function orderBy(q: DagListQuery): SQL {
  // Case-insensitive by name, as the contract says (byte order of the lower-cased names, as Dagu).
  const byName =
    q.order === "asc"
      ? sql`${dags.name} COLLATE NOCASE ASC, ${dags.name} ASC`
      : sql`${dags.name} COLLATE NOCASE DESC, ${dags.name} DESC`;
  if (q.sort === "name") return byName;
  // By next run; DAGs without one come last in ascending order (and so first in descending).
  return q.order === "asc"
    ? sql`${dags.nextRunAt} IS NULL ASC, ${dags.nextRunAt} ASC, ${byName}`
    : sql`${dags.nextRunAt} IS NULL DESC, ${dags.nextRunAt} DESC, ${byName}`;
}

/** One page of DAGs and how many match in all, in one batch; only the page's specs are read. */
export async function listDagPage(d: Db, q: DagListQuery): Promise<{ rows: DagListRow[]; total: number }> {
  const [rows, counted] = await d.batch([
    d
      .select({
        name: dags.name,
        parsed: dags.parsed,
        errors: dags.errors,
        suspended: dags.suspended,
        nextRunAt: dags.nextRunAt,
      })
      .from(dags)
      .where(where(q))
      .orderBy(orderBy(q))
      .limit(q.perPage)
      .offset((q.page - 1) * q.perPage),
    d.select({ n: count() }).from(dags).where(where(q)),
  ]);
  return { rows, total: counted[0]?.n ?? 0 };
}

/**
 * The last RECENT_RUNS top-level runs of each named DAG, newest first, in one query: per DAG an
 * index seek on (dag_name, queued_at) that reads only the rows it returns.
 */
export async function recentRuns(d: Db, dagNames: string[]): Promise<Map<string, DagRunRow[]>> {
  const out = new Map<string, DagRunRow[]>(dagNames.map((n) => [n, []]));
  if (!dagNames.length) return out;
  const raw = await d.all<RawRun>(sql`SELECT r.run_id, r.dag_name, r.status, r.queue, r.params, r.queued_at,
      r.started_at, r.finished_at, r.updated_at, r.parent_run_id, r.parent_dag_name, r.root_run_id, r.root_dag_name
    FROM json_each(${JSON.stringify(dagNames)}) n JOIN ${dagRuns} r ON r.run_id IN (
      SELECT r2.run_id FROM ${dagRuns} r2 WHERE r2.dag_name = n.value AND r2.parent_run_id IS NULL
      ORDER BY r2.queued_at DESC, r2.run_id DESC LIMIT ${RECENT_RUNS})
    ORDER BY r.dag_name, r.queued_at DESC, r.run_id DESC`);
  for (const r of raw) out.get(r.dag_name)?.push(fromRaw(r));
  return out;
}

interface RawRun {
  run_id: string;
  dag_name: string;
  status: string;
  queue: string | null;
  params: string;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  parent_run_id: string | null;
  parent_dag_name: string | null;
  root_run_id: string | null;
  root_dag_name: string | null;
}

/** A run row read with raw SQL, as drizzle reads it (the step statistics are not read). */
export function fromRaw(r: RawRun): DagRunRow {
  return {
    runId: r.run_id,
    dagName: r.dag_name,
    status: r.status,
    queue: r.queue,
    params: r.params,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    steps: null,
    updatedAt: r.updated_at,
    parentRunId: r.parent_run_id,
    parentDagName: r.parent_dag_name,
    rootRunId: r.root_run_id,
    rootDagName: r.root_dag_name,
  };
}
