import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Pure code and the runner: plain Node.
        test: {
          name: "unit",
          environment: "node",
          include: ["test/unit/**/*.test.ts", "test/runner/**/*.test.ts"],
        },
      },
      {
        // Routes and Durable Objects inside workerd, against local D1 with migrations applied.
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
                DAGFLARE_AUTH: "required",
                DAGFLARE_API_TOKEN: "test-user-token",
                DAGFLARE_RUNNER_TOKEN: "test-runner-token",
                DAGFLARE_SESSION_SECRET: "test-session-secret-of-at-least-32-characters",
                // Tests read how many calls a behaviour takes from GET /metrics (src/call-counts.ts).
                DAGFLARE_CALL_COUNTS: "on",
                // Webhooks may post to loopback receivers, as under `npm start`.
                DAGFLARE_WEBHOOKS_LOOPBACK: "on",
                DAGFLARE_WEBHOOK_TIMEOUT_MS: "2000",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          setupFiles: ["test/workers/apply-migrations.ts"],
          // Vitest's 5 s default is too short on a shared machine, not for a slow feature: the
          // files run in parallel workerd instances, and a few tests do heavy work on purpose
          // (a step log flooded past its 32 MiB cap, dozens of concurrent starts against one
          // admission object). Alone they take about a second; with the other files on two
          // busy cores, several times that. No test here waits for time (alarms are fired,
          // `now` is passed), so a longer limit only delays the report of a real hang.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // Real wrangler dev and real runner processes.
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // The dagflare command as a real process against the real local stack; the packed
        // package; the deploy checks.
        test: {
          name: "cli",
          environment: "node",
          include: ["test/cli/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The web UI in a real browser (Debian's Chromium through playwright-core) against the real stack.
        test: {
          name: "browser",
          environment: "node",
          include: ["ui/test/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The chaos suite (npm run test:chaos): runner kills, a network cut, a server restart.
        test: {
          name: "chaos",
          environment: "node",
          include: ["test/chaos/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
