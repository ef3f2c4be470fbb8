// A step's phase and what is derived from it: Dagu's status (the one place it is decided) and
// the lease of the attempt under way. PURE.
import type { StepStatus } from "../../status";
import type { Phase, StepLease, StepState } from "./types";

/** Dagu's status of a step in this phase: what the API, the UI and the run's rules read. */
export function statusOf(phase: Phase): StepStatus {
  switch (phase.kind) {
    case "idle":
    case "held":
    case "queued":
      return "not_started";
    case "leased":
    case "running":
    case "calling":
    case "fannedOut":
    case "repeatWait":
      return "running";
    case "retryWait":
      return "retrying";
    case "awaitingApproval":
      return "waiting";
    case "done":
      return phase.status;
  }
}

/** The lease a runner holds on the step's attempt, confirmed or not. */
export function leaseOf(s: Pick<StepState, "phase">): StepLease | undefined {
  const p = s.phase;
  return p.kind === "leased" || p.kind === "running" ? p.lease : undefined;
}
