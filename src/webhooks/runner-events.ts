// runner.online and runner.offline, for the dispatcher of a pool. A runner is online from the
// report that makes it known (first, or after it was unhealthy) and offline once it has been
// silent for UNHEALTHY_AFTER_MS (the health GET /workers shows): the dispatcher's alarm looks
// for runners that crossed that line since its last look. Only while some webhook takes a
// runner event does any of this read or write anything.
import type { RunnerReport } from "../dispatch/fleet";
import { UNHEALTHY_AFTER_MS } from "../dispatch/fleet";
import type { Env } from "../env";
import { poolOf } from "../shared/selector";
import { webhookStub } from "../stubs";
import { subscribed, type WebhookEventType, type WebhookSubscription } from "./events";
import { newEvent } from "./payload";
import { webhookSubscriptions } from "./registry";

/** Where the dispatcher keeps the last silence it announced (its key-value storage). */
const CHECKED_KEY = "webhooks:offline-checked-until";

async function takers(env: Env, type: WebhookEventType): Promise<WebhookSubscription[]> {
  const found = webhookSubscriptions(env);
  const hooks = Array.isArray(found) ? found : await found;
  return hooks.filter((h) => subscribed(h, { type }));
}

/** Hands a runner event to each webhook that takes it; a failure is logged, not retried. */
export async function announceRunner(
  env: Env,
  type: "runner.online" | "runner.offline",
  report: Pick<RunnerReport, "runnerId" | "labels">,
  at: number,
): Promise<void> {
  const hooks = await takers(env, type);
  if (!hooks.length) return;
  const event = newEvent(type, at, { runnerId: report.runnerId, pool: poolOf(report.labels), labels: report.labels });
  const sent = await Promise.allSettled(hooks.map((h) => webhookStub(env, h.id).enqueue(h.id, [event])));
  for (const s of sent) if (s.status === "rejected") console.error(`webhooks: ${type} not handed over`, s.reason);
}

/**
 * After a runner's report: announces it online when it was unknown or unhealthy, and makes sure
 * the dispatcher's alarm will look for its silence.
 */
export async function runnerReported(
  env: Env,
  storage: DurableObjectStorage,
  report: RunnerReport,
  previousSeenAt: number | undefined,
): Promise<void> {
  const watched = await takers(env, "runner.offline");
  if (previousSeenAt === undefined || report.lastSeenAt - previousSeenAt >= UNHEALTHY_AFTER_MS) {
    await announceRunner(env, "runner.online", report, report.lastSeenAt);
  }
  if (!watched.length) return;
  const due = report.lastSeenAt + UNHEALTHY_AFTER_MS;
  const armed = await storage.getAlarm();
  if (armed === null || armed > due) await storage.setAlarm(due);
}

/** The dispatcher's alarm: announces each runner that went silent since the last look. */
export async function announceSilentRunners(
  env: Env,
  storage: DurableObjectStorage,
  sql: SqlStorage,
  now: number,
): Promise<void> {
  const cutoff = now - UNHEALTHY_AFTER_MS;
  const since = (await storage.get<number>(CHECKED_KEY)) ?? 0;
  const silent = sql
    .exec<{ report: string; last_seen_at: number }>(
      "SELECT report, last_seen_at FROM runners WHERE last_seen_at > ? AND last_seen_at <= ?",
      since,
      cutoff,
    )
    .toArray();
  await storage.put(CHECKED_KEY, cutoff);
  for (const r of silent) {
    await announceRunner(
      env,
      "runner.offline",
      JSON.parse(r.report) as RunnerReport,
      r.last_seen_at + UNHEALTHY_AFTER_MS,
    );
  }
  const next = sql
    .exec<{ at: number | null }>("SELECT MIN(last_seen_at) AS at FROM runners WHERE last_seen_at > ?", cutoff)
    .one().at;
  if (next !== null) await storage.setAlarm(next + UNHEALTHY_AFTER_MS);
}
