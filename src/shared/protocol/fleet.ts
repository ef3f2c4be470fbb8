// The runner's own heartbeat, for the fleet view.
import * as z from "zod";
import { MAX_LEASES_PER_REQUEST } from "./leases.ts";

/** A runner's own heartbeat (not a lease's): how the fleet view (GET /workers) knows it. */
export const RunnerHeartbeatRequest = z.object({
  runnerId: z.string().min(1).max(200),
  labels: z.record(z.string(), z.string()).default({}),
  /** Slots of this runner (its --concurrency). */
  totalSlots: z.number().int().min(1).max(MAX_LEASES_PER_REQUEST),
  running: z
    .array(
      z.object({
        runId: z.string(),
        dagName: z.string(),
        stepName: z.string(),
        /** Epoch ms. */
        startedAt: z.number().int().nonnegative(),
      }),
    )
    .max(MAX_LEASES_PER_REQUEST)
    .default([]),
});
export type RunnerHeartbeatRequest = z.input<typeof RunnerHeartbeatRequest>;

/** How often a runner sends its own heartbeat. */
export const RUNNER_HEARTBEAT_INTERVAL_MS = 5_000;
