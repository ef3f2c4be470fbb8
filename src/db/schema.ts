// D1 tables (drizzle). DAG definitions and the run history index; a run's full state lives in
// its RunObject, D1 holds what lists and filters need.
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const dags = sqliteTable(
  "dags",
  {
    name: text("name").primaryKey(),
    /** The YAML exactly as the user sent it. */
    spec: text("spec").notNull(),
    /** The parsed DagDef as JSON (null when the stored spec has errors). */
    parsed: text("parsed"),
    /** JSON array of tags, for filtering. */
    tags: text("tags").notNull().default("[]"),
    /** JSON array of error lines of the stored spec. */
    errors: text("errors").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** Set by POST /dags/{fileName}/suspend: the schedule does not fire. */
    suspended: integer("suspended", { mode: "boolean" }).notNull().default(false),
    /** When the schedule fires next (epoch ms), as its ScheduleObject armed it; null: not scheduled. */
    nextRunAt: integer("next_run_at"),
  },
  // GET /dags sorts by name without case (src/db/dag-list.ts).
  (t) => [index("dags_name_nocase").on(sql`${t.name} COLLATE NOCASE`)],
);

export const dagRuns = sqliteTable(
  "dag_runs",
  {
    runId: text("run_id").primaryKey(),
    dagName: text("dag_name").notNull(),
    status: text("status").notNull(),
    /** The queue that admits the run: the DAG's `queue`, else null (its own DAG-based queue). */
    queue: text("queue"),
    /** Params as given at start (the contract's JSON string form). */
    params: text("params").notNull().default(""),
    queuedAt: integer("queued_at").notNull(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
    /** JSON StepStat[] of a finished run (src/run/step-stats.ts), for /metrics; null before. */
    steps: text("steps"),
    /** Set on run-level transitions by the RunObject, the only writer after creation. */
    updatedAt: integer("updated_at").notNull(),
    /** A sub-DAG run: the run whose call step started it, and the top of its call chain. Null otherwise. */
    parentRunId: text("parent_run_id"),
    parentDagName: text("parent_dag_name"),
    rootRunId: text("root_run_id"),
    rootDagName: text("root_dag_name"),
  },
  (t) => [
    index("dag_runs_dag_queued").on(t.dagName, t.queuedAt),
    index("dag_runs_status").on(t.status),
    index("dag_runs_queued").on(t.queuedAt),
    index("dag_runs_finished").on(t.finishedAt),
    index("dag_runs_root").on(t.rootRunId),
    // The lists show top-level runs newest first: all of them, by DAG (the recent runs of a
    // page of DAGs), and by status (src/db/dag-list.ts, src/db/run-list.ts).
    index("dag_runs_top_queued").on(t.queuedAt, t.runId).where(sql`${t.parentRunId} IS NULL`),
    index("dag_runs_top_dag").on(t.dagName, t.queuedAt, t.runId).where(sql`${t.parentRunId} IS NULL`),
    index("dag_runs_top_status").on(t.status, t.queuedAt, t.runId).where(sql`${t.parentRunId} IS NULL`),
  ],
);

export type DagRow = typeof dags.$inferSelect;
export type DagRunRow = typeof dagRuns.$inferSelect;

/**
 * Runner tokens created through the API (the env DAGFLARE_RUNNER_TOKEN is the bootstrap one).
 * Only the SHA-256 of a token is kept: the secret is shown once, when it is created.
 */
export const runnerTokens = sqliteTable("runner_tokens", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Hex SHA-256 of the whole token. */
  hash: text("hash").notNull(),
  createdAt: integer("created_at").notNull(),
  /** Set once revoked; a revoked token is refused at its next call. */
  revokedAt: integer("revoked_at"),
  /** JSON array of the pools the token serves: it leases, registers and reports only there. */
  pools: text("pools").notNull().default('["default"]'),
});

export type RunnerTokenRow = typeof runnerTokens.$inferSelect;

/**
 * People who sign in with a user name and password (src/access/). Only a PBKDF2 hash of the
 * password is kept; `sessionGen` is written into every session token, and raising it (a password
 * change or reset) ends every session issued before.
 */
export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  username: text("username").notNull().unique(),
  /** One of ROLES (src/access/roles.ts). */
  role: text("role").notNull(),
  /** `pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>`. */
  passwordHash: text("password_hash").notNull(),
  sessionGen: integer("session_gen").notNull().default(1),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export type UserRow = typeof users.$inferSelect;

/**
 * API keys for scripts and CI: `dfk_<id>_<secret>`, each with a role. As with runner tokens,
 * only the key's SHA-256 is kept and the key is shown once.
 */
export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  role: text("role").notNull(),
  /** Hex SHA-256 of the whole key. */
  hash: text("hash").notNull(),
  /** Who created it: a user name, an API key's name, or "DAGFLARE_API_TOKEN". */
  createdBy: text("created_by").notNull(),
  createdAt: integer("created_at").notNull(),
  /** Set once revoked; a revoked key is refused at its next call. */
  revokedAt: integer("revoked_at"),
});

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * Contexts (Cyclonetix's): named sets of variables a run can be started with, placed under the
 * DAG's env (src/inputs/). `extends` names another context whose variables this one overrides.
 */
export const contexts = sqliteTable("contexts", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  /** JSON object of variable name to value, in the order written. */
  variables: text("variables").notNull(),
  /** The context this one extends, or null. */
  extends: text("extends"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export type ContextRow = typeof contexts.$inferSelect;

/** Parameter sets (Cyclonetix's): named params a run can be started with, over the DAG's defaults. */
export const parameterSets = sqliteTable("parameter_sets", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  /** JSON object of param name to value, in the order written. */
  params: text("params").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export type ParameterSetRow = typeof parameterSets.$inferSelect;

/**
 * What a run was started with, beyond its params text: the context and parameter set it named
 * and the values they resolved to at that moment (a later edit of either does not change the run).
 */
export const runInputs = sqliteTable("run_inputs", {
  runId: text("run_id").primaryKey(),
  context: text("context"),
  parameterSet: text("parameter_set"),
  /** JSON object: the context's variables, `extends` resolved, as the run got them. */
  variables: text("variables").notNull().default("{}"),
  /** JSON object: the parameter set's params as the run got them. */
  params: text("params").notNull().default("{}"),
});

export type RunInputsRow = typeof runInputs.$inferSelect;

/**
 * Tokens that start one DAG through POST /webhooks/{fileName} (Dagu's webhooks in):
 * `dfw_<id>_<secret>`; only the SHA-256 is kept and the token is shown once.
 */
export const webhookTokens = sqliteTable(
  "webhook_tokens",
  {
    id: text("id").primaryKey(),
    dagName: text("dag_name").notNull(),
    name: text("name").notNull(),
    /** Hex SHA-256 of the whole token. */
    hash: text("hash").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    /** Set once revoked; a revoked token is refused at its next call. */
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("webhook_tokens_dag").on(t.dagName)],
);

export type WebhookTokenRow = typeof webhookTokens.$inferSelect;

/**
 * Sign-in attempts per user name and per client address (src/access/sign-in-limit.ts): a fixed
 * window that opens at the first attempt counted and closes `SIGN_IN_WINDOW_MS` later.
 */
export const signInAttempts = sqliteTable("sign_in_attempts", {
  /** `user:<name>` or `addr:<client address>`. */
  key: text("key").primaryKey(),
  attempts: integer("attempts").notNull(),
  windowStartAt: integer("window_start_at").notNull(),
});

/**
 * Who did what to a run (src/run-actions.ts): written by the routes that start, stop, retry or
 * approve, read by the run's details. The run's own state lives in its RunObject.
 */
export const runActions = sqliteTable(
  "run_actions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    runId: text("run_id").notNull(),
    /** The step acted on; null for the whole run. */
    step: text("step"),
    /** One of RUN_ACTIONS (src/run-actions.ts). */
    action: text("action").notNull(),
    /** A user name, an API key's name, `DAGFLARE_API_TOKEN`, `anonymous`, `schedule`, ... */
    actor: text("actor").notNull(),
    /** `user`, `api-key`, `operator-token`, `open` or `system`. */
    actorKind: text("actor_kind").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("run_actions_run").on(t.runId, t.id)],
);

export type RunActionRow = typeof runActions.$inferSelect;

/**
 * Outgoing webhooks (src/webhooks/). The secret is kept as written, because every delivery is
 * signed with it; it is never returned after the creation's answer. `events`, `filters` and
 * `headers` are JSON.
 */
export const webhooks = sqliteTable("webhooks", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  url: text("url").notNull(),
  /** JSON array of event patterns (`task.failed`, `dag.*`, `*`). */
  events: text("events").notNull(),
  /** JSON `{ dagNames?: string[], stepNames?: string[] }`. */
  filters: text("filters").notNull().default("{}"),
  /** JSON object of extra request headers. */
  headers: text("headers").notNull().default("{}"),
  secret: text("secret").notNull(),
  /** `json` (dagflare's event envelope) or `slack` (Slack's incoming-webhook body). */
  format: text("format").notNull().default("json"),
  createdBy: text("created_by").notNull(),
  createdAt: integer("created_at").notNull(),
});

export type WebhookRow = typeof webhooks.$inferSelect;
