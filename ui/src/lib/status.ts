// Status labels and their colours: one place, so every page shows a status the same way.
import { RUN_STATUSES, STEP_STATUSES } from "../../../src/status";
import type { RunStatusLabel, StepStatusLabel } from "../api/types";

export type AnyStatus = RunStatusLabel | StepStatusLabel;

/** The contract's numeric codes: a status's place in the server's list (src/status.ts). */
export const RUN_STATUS_CODES = Object.fromEntries(RUN_STATUSES.map((s, i) => [s, i])) as Record<
  RunStatusLabel,
  number
>;

export const STEP_STATUS_LABELS: readonly StepStatusLabel[] = STEP_STATUSES;

export const RUN_STATUS_LABELS = Object.keys(RUN_STATUS_CODES) as RunStatusLabel[];

export function stepLabelOf(code: number): StepStatusLabel {
  return STEP_STATUS_LABELS[code] ?? "not_started";
}

/** Human words for a status label. */
export function statusText(s: AnyStatus): string {
  return s.replace(/_/g, " ");
}

/** CSS variable holding the status colour (see styles/theme.css: readable in light and dark themes). */
export function statusColor(s: AnyStatus): string {
  return `var(--status-${s.replace(/_/g, "-")})`;
}

export const isActive = (s: AnyStatus) => s === "running" || s === "queued" || s === "waiting" || s === "retrying";
