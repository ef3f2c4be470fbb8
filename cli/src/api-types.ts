// The parts of the API's responses the command reads (shapes of the Dagu v2 contract).

export interface RunSummary {
  name: string;
  dagRunId: string;
  status: number;
  statusLabel: string;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  params?: string;
}

export interface StepNode {
  step: { name: string; depends?: string[] };
  status: number;
  statusLabel: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  attempt?: number;
  exitCode?: number;
  runnerId?: string;
}

export interface RunDetails extends RunSummary {
  nodes: StepNode[];
  onSuccess?: StepNode;
  onFailure?: StepNode;
  onCancel?: StepNode;
  onExit?: StepNode;
  waitingFor?: string;
}

export interface LogSlice {
  content: string;
  lineCount: number;
  totalLines: number;
  hasMore: boolean;
  /** The last line ended with a newline, which content leaves out (dagflare's). */
  endsWithNewline?: boolean;
  attempt?: number;
}

export interface PlanStep {
  name: string;
  depends?: string[];
  command?: string;
  script?: string;
  call?: string;
  parallel?: { items: unknown };
}

export interface ValidateResponse {
  valid: boolean;
  errors: string[];
  warnings: string[];
  dag?: { name: string; steps: PlanStep[]; handlerOn?: Record<string, PlanStep> };
}

/** Every node of a run, the handlers that ran after the steps included. */
export function allNodes(d: RunDetails): StepNode[] {
  const handlers = [d.onSuccess, d.onFailure, d.onCancel, d.onExit].filter((h): h is StepNode => h !== undefined);
  return [...d.nodes, ...handlers];
}

/** The run statuses a run ends in. */
export const TERMINAL_RUN = new Set(["succeeded", "failed", "aborted", "partially_succeeded", "rejected"]);
/** The step statuses a step ends in. */
export const TERMINAL_STEP = new Set(["succeeded", "failed", "aborted", "skipped", "partially_succeeded", "rejected"]);

export const enc = encodeURIComponent;
export const runPath = (dag: string, run: string) => `/dag-runs/${enc(dag)}/${enc(run)}`;
