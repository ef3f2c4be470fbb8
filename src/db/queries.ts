// Named D1 queries. No business rules here: callers decide, these read and write.
import { and, count, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { RunStatus } from "../status";
import { type DagRow, type DagRunRow, dagRuns, dags } from "./schema";

export const db = (d1: D1Database) => drizzle(d1);
type Db = ReturnType<typeof db>;

export async function getDag(d: Db, name: string): Promise<DagRow | undefined> {
  return d.select().from(dags).where(eq(dags.name, name)).get();
}

export async function listDags(d: Db): Promise<DagRow[]> {
  return d.select().from(dags).orderBy(dags.name).all();
}

/** Inserts a DAG; false when one with that name exists already. */
export async function insertDag(d: Db, row: typeof dags.$inferInsert): Promise<boolean> {
  const res = await d.insert(dags).values(row).onConflictDoNothing().run();
  return res.meta.changes === 1;
}

export async function updateDagSpec(
  d: Db,
  name: string,
  fields: Pick<DagRow, "spec" | "parsed" | "tags" | "errors" | "updatedAt">,
): Promise<boolean> {
  const res = await d.update(dags).set(fields).where(eq(dags.name, name)).run();
  return res.meta.changes === 1;
}

export async function deleteDag(d: Db, name: string): Promise<boolean> {
  const res = await d.delete(dags).where(eq(dags.name, name)).run();
  return res.meta.changes === 1;
}

/** Inserts a run's index row; false when the run id is taken. */
export async function insertRun(d: Db, row: typeof dagRuns.$inferInsert): Promise<boolean> {
  const res = await d.insert(dagRuns).values(row).onConflictDoNothing().run();
  return res.meta.changes === 1;
}

export async function deleteRun(d: Db, runId: string): Promise<void> {
  await d.delete(dagRuns).where(eq(dagRuns.runId, runId)).run();
}

export async function updateRunSummary(
  d: Db,
  runId: string,
  fields: {
    status: RunStatus;
    startedAt?: number | null;
    finishedAt?: number | null;
    steps?: string | null;
    updatedAt: number;
  },
): Promise<void> {
  await d.update(dagRuns).set(fields).where(eq(dagRuns.runId, runId)).run();
}

export async function getRun(d: Db, runId: string): Promise<DagRunRow | undefined> {
  return d.select().from(dagRuns).where(eq(dagRuns.runId, runId)).get();
}

export async function latestRun(d: Db, dagName: string): Promise<DagRunRow | undefined> {
  return d
    .select()
    .from(dagRuns)
    .where(and(eq(dagRuns.dagName, dagName), topLevel))
    .orderBy(desc(dagRuns.queuedAt), desc(dagRuns.runId))
    .limit(1)
    .get();
}

/**
 * Sub-DAG runs are reached through the run that called them (as in Dagu): history lists, `latest`,
 * retention and the queues show top-level runs only.
 */
const topLevel = isNull(dagRuns.parentRunId);

/** The sub-DAG runs below a run: its children, and theirs when it is the top of the chain; oldest first. */
export async function listSubRuns(d: Db, runId: string): Promise<DagRunRow[]> {
  return d
    .select()
    .from(dagRuns)
    .where(or(eq(dagRuns.parentRunId, runId), eq(dagRuns.rootRunId, runId)))
    .orderBy(dagRuns.queuedAt, dagRuns.runId)
    .all();
}

export interface RunFilter {
  dagName?: string;
  statuses?: RunStatus[];
  /** A part of the run id, any case. */
  runIdContains?: string;
  fromMs?: number;
  toMs?: number;
  limit: number;
}

export async function listRuns(d: Db, f: RunFilter): Promise<DagRunRow[]> {
  const where: SQL[] = [topLevel];
  if (f.dagName !== undefined) where.push(eq(dagRuns.dagName, f.dagName));
  if (f.runIdContains !== undefined) {
    where.push(sql`instr(lower(${dagRuns.runId}), ${f.runIdContains.toLowerCase()}) > 0`);
  }
  if (f.fromMs !== undefined) where.push(gte(dagRuns.queuedAt, f.fromMs));
  if (f.toMs !== undefined) where.push(lte(dagRuns.queuedAt, f.toMs));
  if (f.statuses !== undefined) where.push(inArray(dagRuns.status, f.statuses));
  return d
    .select()
    .from(dagRuns)
    .where(and(...where))
    .orderBy(desc(dagRuns.queuedAt), desc(dagRuns.runId))
    .limit(f.limit)
    .all();
}

export async function countRunsByStatus(d: Db): Promise<Array<{ status: string; n: number }>> {
  return d.select({ status: dagRuns.status, n: count() }).from(dagRuns).groupBy(dagRuns.status).all();
}

export async function countDags(d: Db): Promise<number> {
  return (await d.select({ n: count() }).from(dags).get())?.n ?? 0;
}

/** Finished runs (any terminal status) that finished before `beforeMs`, oldest first. */
export async function finishedRunsBefore(
  d: Db,
  beforeMs: number,
  statuses: string[],
  limit: number,
  dagName?: string,
): Promise<DagRunRow[]> {
  const where = [
    topLevel,
    isNotNull(dagRuns.finishedAt),
    lt(dagRuns.finishedAt, beforeMs),
    inArray(dagRuns.status, statuses),
  ];
  if (dagName !== undefined) where.push(eq(dagRuns.dagName, dagName));
  return d
    .select()
    .from(dagRuns)
    .where(and(...where))
    .orderBy(dagRuns.finishedAt)
    .limit(limit)
    .all();
}

export async function setDagSchedule(
  d: Db,
  name: string,
  fields: Partial<Pick<DagRow, "suspended" | "nextRunAt">>,
): Promise<boolean> {
  const res = await d.update(dags).set(fields).where(eq(dags.name, name)).run();
  return res.meta.changes === 1;
}

/** The latest run of a DAG with one of `statuses` that started at or after `sinceMs`. */
export async function runSince(
  d: Db,
  dagName: string,
  statuses: RunStatus[],
  sinceMs: number,
): Promise<DagRunRow | undefined> {
  return d
    .select()
    .from(dagRuns)
    .where(
      and(eq(dagRuns.dagName, dagName), topLevel, inArray(dagRuns.status, statuses), gte(dagRuns.startedAt, sinceMs)),
    )
    .orderBy(desc(dagRuns.startedAt))
    .limit(1)
    .get();
}

/** Runs that are running or waiting, oldest first (what GET /queues shows). */
export async function activeRuns(d: Db): Promise<DagRunRow[]> {
  return d
    .select()
    .from(dagRuns)
    .where(and(topLevel, inArray(dagRuns.status, ["running", "waiting", "queued"])))
    .orderBy(dagRuns.queuedAt, dagRuns.runId)
    .all();
}

/**
 * Moves a DAG to a new name in one batch: its row, and, when the DAG's own name changes with
 * it, the history of its runs. False when the new name is taken or the DAG is gone.
 */
export async function renameDag(
  d: Db,
  from: string,
  to: string,
  fields: Pick<DagRow, "parsed" | "updatedAt">,
  runs?: { from: string; to: string },
): Promise<boolean> {
  if (await getDag(d, to)) return false;
  const moveDag = d
    .update(dags)
    .set({ name: to, ...fields })
    .where(eq(dags.name, from));
  const [res] = runs
    ? await d.batch([moveDag, d.update(dagRuns).set({ dagName: runs.to }).where(eq(dagRuns.dagName, runs.from))])
    : [await moveDag.run()];
  return res.meta.changes === 1;
}

/** Steps of finished runs by final status: how many, how many ran (timed), and their total duration. */
export async function stepTotals(d: Db): Promise<Array<{ status: string; n: number; timed: number; ms: number }>> {
  // Grouped by the step's status (a bare `status` would be the run's column).
  const rows = await d.all<{ step_status: string; n: number; timed: number; ms: number }>(sql`
    SELECT json_extract(s.value, '$.status') AS step_status, COUNT(*) AS n,
      SUM(CASE WHEN json_extract(s.value, '$.durationMs') IS NOT NULL THEN 1 ELSE 0 END) AS timed,
      COALESCE(SUM(json_extract(s.value, '$.durationMs')), 0) AS ms
    FROM ${dagRuns}, json_each(${dagRuns.steps}) AS s
    WHERE ${dagRuns.steps} IS NOT NULL
    GROUP BY step_status`);
  return rows.map((r) => ({ status: r.step_status, n: r.n, timed: r.timed, ms: r.ms }));
}

/** How many step durations are at most each bound (cumulative, as Prometheus buckets are). */
export async function stepDurationBuckets(d: Db, boundsMs: number[]): Promise<number[]> {
  if (!boundsMs.length) return [];
  const cols = sql.join(
    boundsMs.map(
      (b, i) =>
        sql`SUM(CASE WHEN json_extract(s.value, '$.durationMs') <= ${b} THEN 1 ELSE 0 END) AS ${sql.raw(`b${i}`)}`,
    ),
    sql`, `,
  );
  const rows = await d.all<Record<string, number | null>>(sql`
    SELECT ${cols}
    FROM ${dagRuns}, json_each(${dagRuns.steps}) AS s
    WHERE ${dagRuns.steps} IS NOT NULL AND json_extract(s.value, '$.durationMs') IS NOT NULL`);
  // Each column is named for its bound (identical unnamed expressions would collide).
  const row = rows[0] ?? {};
  return boundsMs.map((_b, i) => Number(row[`b${i}`] ?? 0));
}

/** Scheduled DAGs: how many are armed, how many suspended, and the soonest next run. */
export async function scheduleTotals(d: Db): Promise<{ armed: number; suspended: number; nextRunAt: number | null }> {
  const row = await d
    .select({
      armed: sql<number>`SUM(CASE WHEN ${dags.nextRunAt} IS NOT NULL THEN 1 ELSE 0 END)`,
      suspended: sql<number>`SUM(CASE WHEN ${dags.suspended} THEN 1 ELSE 0 END)`,
      nextRunAt: sql<number | null>`MIN(${dags.nextRunAt})`,
    })
    .from(dags)
    .get();
  return { armed: row?.armed ?? 0, suspended: row?.suspended ?? 0, nextRunAt: row?.nextRunAt ?? null };
}
