// Statuses are string literals inside dagflare and Dagu's numeric codes on the wire.
// Codes 7+ are the extensions later Dagu releases use (see DESIGN.md).

export const RUN_STATUSES = [
  "not_started",
  "running",
  "failed",
  "aborted",
  "succeeded",
  "queued",
  "partially_succeeded",
  "waiting",
  "rejected",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = [
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
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const runStatusCode = (s: RunStatus): number => RUN_STATUSES.indexOf(s);
export const stepStatusCode = (s: StepStatus): number => STEP_STATUSES.indexOf(s);

export function parseRunStatus(input: string): RunStatus | undefined {
  if (/^\d+$/.test(input)) return RUN_STATUSES[Number(input)];
  return (RUN_STATUSES as readonly string[]).includes(input) ? (input as RunStatus) : undefined;
}

const TERMINAL_RUN: ReadonlySet<RunStatus> = new Set([
  "failed",
  "aborted",
  "succeeded",
  "partially_succeeded",
  "rejected",
]);
export const isTerminalRun = (s: RunStatus): boolean => TERMINAL_RUN.has(s);

/** The statuses a step ends with. */
export type FinalStepStatus = Extract<
  StepStatus,
  "failed" | "aborted" | "succeeded" | "skipped" | "partially_succeeded" | "rejected"
>;
const TERMINAL_STEP: ReadonlySet<StepStatus> = new Set<FinalStepStatus>([
  "failed",
  "aborted",
  "succeeded",
  "skipped",
  "partially_succeeded",
  "rejected",
]);
export const isTerminalStep = (s: StepStatus): s is FinalStepStatus => TERMINAL_STEP.has(s);
