// What /metrics needs of a finished run's steps: each step's final status and, for a step that
// ran, how long it took (from its start to its end, as the server saw them). PURE.
import type { StepStatus } from "../status";
import type { RunState } from "./engine";

export interface StepStat {
  status: StepStatus;
  /** Absent for a step that never started (skipped, aborted before it ran). */
  durationMs?: number;
}

export function stepStats(run: RunState): StepStat[] {
  return Object.values(run.steps).map((s) =>
    s.startedAt !== undefined && s.finishedAt !== undefined
      ? { status: s.status, durationMs: Math.max(0, s.finishedAt - s.startedAt) }
      : { status: s.status },
  );
}
