// The storage of the QueueObject (admission), as drizzle tables. Migrations under
// migrations/do/queue/ are generated from this file (`npm run db:generate:do`).
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Named queues with a configured concurrency. */
export const queues = sqliteTable("queues", {
  name: text("name").primaryKey(),
  maxConcurrency: integer("max_concurrency").notNull(),
});

/** Runs waiting for admission, in order of arrival. */
export const waiting = sqliteTable("waiting", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  runId: text("run_id").notNull().unique(),
  dagName: text("dag_name").notNull(),
  queue: text("queue"),
  maxActiveRuns: integer("max_active_runs"),
});

/** Runs admitted and not finished; `started` once their start was delivered. */
export const active = sqliteTable("active", {
  runId: text("run_id").primaryKey(),
  dagName: text("dag_name").notNull(),
  queue: text("queue"),
  started: integer("started").notNull().default(0),
});
