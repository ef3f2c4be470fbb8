// The storage of a DispatchObject (one per runner pool), as drizzle tables. Migrations under
// migrations/do/dispatch/ are generated from this file (`npm run db:generate:do`).
import { integer, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";

/** Ready steps waiting for a runner, oldest first. */
export const tasks = sqliteTable(
  "tasks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    runId: text("run_id").notNull(),
    step: text("step").notNull(),
    dispatchSeq: integer("dispatch_seq").notNull(),
    enqueuedAt: integer("enqueued_at").notNull(),
    /** The step's effective workerSelector as JSON; `{}` matches every runner of the pool. */
    selector: text("selector").notNull().default("{}"),
  },
  (t) => [unique().on(t.runId, t.step, t.dispatchSeq)],
);

/** Runners declared lost by a run: their polls older than `since` get no work. */
export const lostRunners = sqliteTable("lost_runners", {
  runnerId: text("runner_id").primaryKey(),
  since: integer("since").notNull(),
});

/** The last report of each runner of the pool, and the token that sent it. */
export const runners = sqliteTable("runners", {
  runnerId: text("runner_id").primaryKey(),
  report: text("report").notNull(),
  lastSeenAt: integer("last_seen_at").notNull(),
  tokenId: text("token_id"),
});

/** Pools known to this object (the default pool's object lists them all). */
export const pools = sqliteTable("pools", {
  name: text("name").primaryKey(),
});
