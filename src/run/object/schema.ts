// The storage of a RunObject (one per run), as drizzle tables. Migrations under
// migrations/do/run/ are generated from this file (`npm run db:generate:do`) and applied when
// the object starts (storage.ts).
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** `init` (DAG snapshot, params, lease TTL), `run` (run-level state), `outputs`, `alarm_at`. */
export const meta = sqliteTable("meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/** One JSON row per step, written only when the step changed. */
export const steps = sqliteTable("steps", {
  name: text("name").primaryKey(),
  state: text("state").notNull(),
});

/** `(key, at)`: one alarm is armed at the earliest row. */
export const timers = sqliteTable("timers", {
  key: text("key").primaryKey(),
  at: integer("at").notNull(),
});

/** The run's own log (`GET /dag-runs/{name}/{id}/log`). */
export const runLog = sqliteTable("run_log", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  at: integer("at").notNull(),
  message: text("message").notNull(),
});

/** Step log entries, one row per entry a runner sent (src/run/log-store.ts). */
export const logs = sqliteTable(
  "logs",
  {
    step: text("step").notNull(),
    attempt: integer("attempt").notNull(),
    seq: integer("seq").notNull(),
    stream: text("stream").notNull(),
    text: text("text").notNull(),
    bytes: integer("bytes").notNull().default(0),
    newlines: integer("newlines").notNull().default(0),
    openEnd: integer("open_end").notNull().default(0),
    /** The stream's newlines through this row, set once every entry before it is stored. */
    lineEnd: integer("line_end"),
  },
  (t) => [
    primaryKey({ columns: [t.step, t.attempt, t.seq] }),
    index("logs_by_line").on(t.step, t.attempt, t.stream, t.lineEnd, t.seq),
  ],
);

/** Per attempt: the contiguous acked seq and the bytes stored and dropped. */
export const logMeta = sqliteTable(
  "log_meta",
  {
    step: text("step").notNull(),
    attempt: integer("attempt").notNull(),
    ackedSeq: integer("acked_seq").notNull(),
    bytes: integer("bytes").notNull(),
    droppedBytes: integer("dropped_bytes").notNull(),
  },
  (t) => [primaryKey({ columns: [t.step, t.attempt] })],
);

/**
 * Webhook events of this run not yet handed to their webhooks' delivery objects, stored with
 * the state change that caused them (src/run/object/webhook-outbox.ts).
 */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    hookId: text("hook_id").notNull(),
    eventId: text("event_id").notNull(),
    event: text("event").notNull(),
  },
  (t) => [primaryKey({ columns: [t.hookId, t.eventId] })],
);
