// Shapes of dagflare's own run endpoints (outputs, approvals), beside the runner protocol's.
import * as z from "zod/mini";

/** GET /dag-runs/{name}/{dagRunId}/outputs (dagflare's addition): each step's output variables. */
export const RunOutputs = z.object({
  name: z.string(),
  dagRunId: z.string(),
  /** Every step (and handler) that declares `output`, in DAG order. */
  steps: z.array(
    z.object({
      step: z.string(),
      status: z.string(),
      /** The variable and its value; empty until the step captured it (or when a later step overwrote it). */
      outputs: z.record(z.string(), z.string()),
    }),
  ),
  /** The variables as later steps see them. */
  variables: z.record(z.string(), z.string()),
});
export type RunOutputs = z.infer<typeof RunOutputs>;

/** POST /dag-runs/{name}/{dagRunId}/steps/{stepName}/approve and /reject (a dagflare addition). */
export const ApprovalRequest = z.object({
  /** Why; written to the run log (and, on rejection, is the step's error). */
  reason: z.optional(z.string().check(z.maxLength(2000))),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

export const ApprovalResponse = z.object({
  stepName: z.string(),
  /** The step's status after the decision: not_started (dispatched to run), succeeded (no command) or rejected. */
  statusLabel: z.string(),
});
export type ApprovalResponse = z.infer<typeof ApprovalResponse>;
