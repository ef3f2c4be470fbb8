// Status labels and their colours: one place, so every page shows a status the same way.
import type { RunStatusLabel, StepStatusLabel } from "../api/types";

export type AnyStatus = RunStatusLabel | StepStatusLabel;

/** The contract's numeric codes (run and step lists share 0-4; the rest differ by kind). */
export const RUN_STATUS_CODES: Record<RunStatusLabel, number> = {
  not_started: 0,
  running: 1,
  failed: 2,
  aborted: 3,
  succeeded: 4,
  queued: 5,
  partially_succeeded: 6,
  waiting: 7,
  rejected: 8,
};

export const STEP_STATUS_LABELS: StepStatusLabel[] = [
  "not_started",
  "running",
  "failed",
  "aborted",
  "succeeded",
  "skipped",
  "partially_succeeded",
  "waiting",
  "rejected",
  "retrying",
];

export const RUN_STATUS_LABELS = Object.keys(RUN_STATUS_CODES) as RunStatusLabel[];

export function stepLabelOf(code: number): StepStatusLabel {
  return STEP_STATUS_LABELS[code] ?? "not_started";
}

/** Human words for a status label. */
export function statusText(s: AnyStatus): string {
  return s.replace(/_/g, " ");
}

/** CSS variable holding the status colour (see styles.css: readable in light and dark themes). */
export function statusColor(s: AnyStatus): string {
  return `var(--status-${s.replace(/_/g, "-")})`;
}

export const isActive = (s: AnyStatus) => s === "running" || s === "queued" || s === "waiting" || s === "retrying";
