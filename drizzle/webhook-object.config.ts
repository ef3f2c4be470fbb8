// drizzle-kit for the storage of each WebhookObject Durable Object (`npm run db:generate:do`);
// applied by the object itself when it starts, with drizzle's durable-sqlite migrator.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: "./src/webhooks/schema.ts",
  out: "./migrations/do/webhook",
});
