// The runner's own heartbeat, for the fleet view.
import * as z from "zod/mini";
import { MAX_LEASES_PER_REQUEST } from "./leases.ts";

/** A runner's own heartbeat (not a lease's): how the fleet view (GET /workers) knows it. */
export const RunnerHeartbeatRequest = z.object({
  runnerId: z.string().check(z.minLength(1), z.maxLength(200)),
  labels: z._default(z.record(z.string(), z.string()), {}),
  /** Slots of this runner (its --concurrency). */
  totalSlots: z.int().check(z.gte(1), z.lte(MAX_LEASES_PER_REQUEST)),
  running: z._default(
    z
      .array(
        z.object({
          runId: z.string(),
          dagName: z.string(),
          stepName: z.string(),
          /** Epoch ms. */
          startedAt: z.int().check(z.nonnegative()),
        }),
      )
      .check(z.maxLength(MAX_LEASES_PER_REQUEST)),
    [],
  ),
});
export type RunnerHeartbeatRequest = z.input<typeof RunnerHeartbeatRequest>;

/** How often a runner sends its own heartbeat. */
export const RUNNER_HEARTBEAT_INTERVAL_MS = 5_000;
