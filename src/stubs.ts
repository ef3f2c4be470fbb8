// Every Durable Object stub of the Worker, in one place: which object a name maps to is decided
// here and nowhere else (one RunObject per run id, one DispatchObject per runner pool, one
// ScheduleObject per scheduled DAG, one admission QueueObject, one WebhookObject per webhook).

import type { Env } from "./env";
import { DEFAULT_POOL } from "./shared/selector";

/** The RunObject of a run. */
export function runStub(env: Env, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(runId));
}

/**
 * The dispatcher of a runner pool (a runner's `pool` label, a step's `pool` selector). Pools
 * never share tasks: a runner polls only its own pool's dispatcher.
 */
export function dispatcherFor(env: Env, pool = DEFAULT_POOL) {
  return env.DISPATCH.get(env.DISPATCH.idFromName(pool));
}

/** The single admission object: `maxActiveRuns` and named queues. */
export function admission(env: Env) {
  return env.QUEUES.get(env.QUEUES.idFromName("admission"));
}

/** The schedule object of a DAG, whose alarm is the DAG's clock. */
export function scheduleStub(env: Env, dagName: string) {
  return env.SCHEDULES.get(env.SCHEDULES.idFromName(dagName));
}

/** The mail of a run (src/mail/mail-object.ts). */
export function mailStub(env: Env, runId: string) {
  return env.MAIL.get(env.MAIL.idFromName(runId));
}

/** The delivery queue of a webhook. */
export function webhookStub(env: Env, webhookId: string) {
  return env.WEBHOOKS.get(env.WEBHOOKS.idFromName(webhookId));
}
