// The storage of a WebhookObject (one per webhook): its queue of deliveries and every attempt.
// Migrations under migrations/do/webhook/ are generated from this file (`npm run db:generate:do`).
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** `hook_id`: the webhook this object delivers for (its name). */
export const meta = sqliteTable("meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/** One row per event to deliver; `id` is the event's id, so a repeated hand-over is one row. */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    /** The event envelope, JSON; the body is rendered from it at each attempt. */
    event: text("event").notNull(),
    createdAt: integer("created_at").notNull(),
    /** `pending`, `delivered` or `failed` (given up). */
    status: text("status").notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** When the next attempt is due (pending only). */
    nextAt: integer("next_at"),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("deliveries_due").on(t.status, t.nextAt), index("deliveries_recent").on(t.createdAt)],
);

/** Each attempt: when, how long, and the HTTP status or the network error. */
export const attempts = sqliteTable(
  "attempts",
  {
    deliveryId: text("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    at: integer("at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    httpStatus: integer("http_status"),
    error: text("error"),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);
