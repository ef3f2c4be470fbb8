/**
 * The Durable Object class behind each namespace binding, filled in by the wiring
 * (src/index.ts, with `declare module`). Every class takes `Env`, so if `Env` imported the
 * classes, each would import itself through it: the classes register here instead.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in src/index.ts.
export interface DurableObjectClasses {}

type Namespace<K extends string> = DurableObjectNamespace<
  DurableObjectClasses extends Record<K, infer C extends Rpc.DurableObjectBranded> ? C : undefined
>;

export interface Env {
  DB: D1Database;
  RUNS: Namespace<"RunObject">;
  DISPATCH: Namespace<"DispatchObject">;
  SCHEDULES: Namespace<"ScheduleObject">;
  QUEUES: Namespace<"QueueObject">;
  MAIL: Namespace<"MailObject">;
  WEBHOOKS: Namespace<"WebhookObject">;
  /** "required" (default) or "off": an operator's explicit choice to serve without tokens. */
  DAGFLARE_AUTH?: string;
  /** Bearer token for the user API (a Worker secret). */
  DAGFLARE_API_TOKEN?: string;
  /** Bearer token for the runner endpoints only (a Worker secret). */
  DAGFLARE_RUNNER_TOKEN?: string;
  /** Signs sign-in sessions (HS256 JWTs); at least 32 characters (a Worker secret). */
  DAGFLARE_SESSION_SECRET?: string;
  /** The first admin's password: used once, at a sign-in while no user exists (a Worker secret). */
  DAGFLARE_ADMIN_PASSWORD?: string;
  /** The first admin's user name (default "admin"). */
  DAGFLARE_ADMIN_USERNAME?: string;
  /** "on": count Durable Object calls and D1 queries for GET /metrics (src/call-counts.ts). */
  DAGFLARE_CALL_COUNTS?: string;
  /** "on": log marks of each run's start and end for `npm run bench:fixed -- --timing` (src/timing.ts). */
  DAGFLARE_TIMING?: string;
  /** The operator's SMTP server, for DAGs whose `smtp` names no host (README, "Mail"). */
  DAGFLARE_SMTP_HOST?: string;
  DAGFLARE_SMTP_PORT?: string;
  DAGFLARE_SMTP_USERNAME?: string;
  /** A Worker secret; sent only to DAGFLARE_SMTP_HOST. */
  DAGFLARE_SMTP_PASSWORD?: string;
  /** The sender of mails whose DAG gives no `from`. */
  DAGFLARE_SMTP_FROM?: string;
  /** "on": webhooks may post to loopback hosts over http (set by `npm start` and the tests). */
  DAGFLARE_WEBHOOKS_LOOPBACK?: string;
  /** A webhook delivery's first retry delay in ms (default 10000; doubled each attempt). */
  DAGFLARE_WEBHOOK_RETRY_BASE_MS?: string;
  /** How long one delivery attempt waits for its receiver, in ms (default 10000). */
  DAGFLARE_WEBHOOK_TIMEOUT_MS?: string;
  /** Lease time-to-live; runners heartbeat at a third of it. */
  LEASE_TTL_MS?: string;
}

export function leaseTtlMs(env: Env): number {
  const n = Number(env.LEASE_TTL_MS ?? "");
  return Number.isInteger(n) && n >= 500 ? n : 15_000;
}
