// Removing finished runs: a run's Durable Objects' storage first (its RunObject and its
// MailObject), then its D1 rows (its index row, its inputs, who did what to it). A run that is
// not finished is never removed (the RunObject refuses, and only finished rows are selected).
// Used by POST /dag-runs/cleanup and, per DAG, by `histRetentionDays` when a run finishes.
import { db, deleteRun, finishedRunsBefore, listSubRuns } from "../db/queries";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { forgetRunInputs } from "../inputs/start-inputs";
import { forgetRunActions } from "../run-actions";
import { isTerminalRun, RUN_STATUSES } from "../status";
import { mailStub, runStub } from "../stubs";

/** Runs removed by one pass; more are left for the next. */
export const REMOVE_BATCH = 200;
const DAY_MS = 86_400_000;

const TERMINAL = RUN_STATUSES.filter(isTerminalRun);

/** Finished runs (of one DAG, or all) that finished more than `olderThanDays` ago, oldest first. */
export function expiredRuns(env: Env, olderThanDays: number, dagName?: string): Promise<DagRunRow[]> {
  return finishedRunsBefore(db(env.DB), Date.now() - olderThanDays * DAY_MS, TERMINAL, REMOVE_BATCH, dagName);
}

/**
 * Removes runs, each with its sub-DAG runs; returns the ids of the top-level runs removed (a run
 * whose storage, or a sub-DAG run's, could not be removed stays).
 */
export async function removeRuns(env: Env, rows: DagRunRow[]): Promise<string[]> {
  const removed: string[] = [];
  for (const r of rows) {
    // Sub-DAG runs first, then the run: a later pass finds what a failure left behind.
    const subs = await listSubRuns(db(env.DB), r.runId);
    if ((await Promise.all(subs.map((s) => removeOne(env, s.runId)))).includes(false)) continue;
    if (await removeOne(env, r.runId)) removed.push(r.runId);
  }
  return removed;
}

/**
 * The run's objects first (its RunObject, then its MailObject): if one fails, its index row stays
 * and a later pass retries (destroying either twice is harmless). Then what D1 holds of it.
 */
async function removeOne(env: Env, runId: string): Promise<boolean> {
  const done = await runStub(env, runId).destroy();
  if (!done.ok) return false;
  // Every run has a mail object by its id, empty unless its DAG has mailOn: emptying one that
  // holds nothing costs a call and leaves nothing behind.
  await mailStub(env, runId).destroy();
  await deleteRun(db(env.DB), runId);
  await forgetRunInputs(env.DB, [runId]);
  await forgetRunActions(env, [runId]);
  return true;
}

/**
 * Applies a DAG's `histRetentionDays` when its run `justFinished` finished. That run is always
 * kept (with 0 days it would otherwise vanish before anyone saw it).
 */
export async function applyRetention(
  env: Env,
  dagName: string,
  retentionDays: number,
  justFinished: string,
): Promise<string[]> {
  const rows = await expiredRuns(env, retentionDays, dagName);
  return removeRuns(
    env,
    rows.filter((r) => r.runId !== justFinished),
  );
}

/** applyRetention after a run finished; a failure is logged, and retention runs again at the DAG's next finish. */
export async function retainAfterFinish(
  env: Env,
  dagName: string,
  retentionDays: number,
  runId: string,
): Promise<void> {
  try {
    await applyRetention(env, dagName, retentionDays, runId);
  } catch (err) {
    console.error(`retention of ${dagName} failed`, err);
  }
}
