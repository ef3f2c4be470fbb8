// Who did what to a run: the routes that start, stop, dequeue, purge, retry, approve, reject or
// set a step's status record the caller (src/access/authenticate.ts) in D1's run_actions; the run's details
// show them as dagflare's `actions`. The run's own state (its RunObject) is not involved.
import { asc, eq, inArray } from "drizzle-orm";
import type { Context } from "hono";
import type { Actor } from "./access/authenticate";
import { db } from "./db/queries";
import { runActions } from "./db/schema";
import type { Env } from "./env";

export const RUN_ACTIONS = [
  "start",
  "enqueue",
  "reschedule",
  "stop",
  "dequeue",
  "purge",
  "retry",
  "approve",
  "reject",
  "set-status",
] as const;
export type RunActionName = (typeof RUN_ACTIONS)[number];

/** The caller as recorded: a person or key, or dagflare itself (`schedule`). */
export interface ActedBy {
  kind: Actor["kind"] | "system";
  name: string;
}

/** What the run's details show. */
export interface RunAction {
  action: RunActionName;
  step?: string;
  actor: string;
  actorKind: ActedBy["kind"];
  at: string;
}

/** Actions shown per run: far more than any run is acted on by hand. */
const MAX_SHOWN = 500;

export const SCHEDULE: ActedBy = { kind: "system", name: "schedule" };

export function actedBy(c: Context): ActedBy {
  const actor: Actor = c.get("actor");
  return { kind: actor.kind, name: actor.name };
}

/**
 * Records an action that was done. A failure to record is logged, not answered: the action
 * itself happened, and a 500 would tell the caller otherwise.
 */
export async function recordRunAction(
  env: Env,
  a: { runId: string; step?: string; action: RunActionName; by: ActedBy },
  now = Date.now(),
): Promise<void> {
  try {
    await db(env.DB)
      .insert(runActions)
      .values({
        runId: a.runId,
        step: a.step ?? null,
        action: a.action,
        actor: a.by.name,
        actorKind: a.by.kind,
        at: now,
      })
      .run();
  } catch (err) {
    console.error(`run ${a.runId}: could not record ${a.action} by ${a.by.name}`, err);
  }
}

export async function runActionsOf(env: Env, runId: string): Promise<RunAction[]> {
  const rows = await db(env.DB)
    .select()
    .from(runActions)
    .where(eq(runActions.runId, runId))
    .orderBy(asc(runActions.id))
    .limit(MAX_SHOWN)
    .all();
  return rows.map((r) => ({
    action: r.action as RunActionName,
    ...(r.step !== null && { step: r.step }),
    actor: r.actor,
    actorKind: r.actorKind as ActedBy["kind"],
    at: new Date(r.at).toISOString(),
  }));
}

/** Forgets what was done to runs that are removed (retention, cleanup). */
export async function forgetRunActions(env: Env, runIds: string[]): Promise<void> {
  if (runIds.length) await db(env.DB).delete(runActions).where(inArray(runActions.runId, runIds)).run();
}
