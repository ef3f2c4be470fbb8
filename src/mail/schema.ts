// The storage of a MailObject (one per run), as drizzle tables. Migrations under
// migrations/do/mail/ are generated from this file (`npm run db:generate:do`).
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per mail of the run: sent, waiting for its next attempt, or given up. */
export const mails = sqliteTable("mails", {
  /** `<finishedAt>:<kind>`: a run's finish asks for its mail once however often it is told. */
  id: text("id").primaryKey(),
  /** JSON MailJob (src/mail/mail-object.ts): what to say and to whom; never a password. */
  job: text("job").notNull(),
  attempts: integer("attempts").notNull().default(0),
  /** When to try next (epoch ms); null once sent or given up. */
  nextAt: integer("next_at"),
  sentAt: integer("sent_at"),
  lastError: text("last_error"),
  createdAt: integer("created_at").notNull(),
});
