// The shapes the UI reads, as the API serves them (Dagu's v2 contract plus dagflare's additions).
// Only the fields the UI uses are listed; the server may send more.

// The status labels are the server's own lists (src/status.ts, pure, shared with the UI).
import type { RunStatus, StepStatus } from "../../../src/status";

export type RunStatusLabel = RunStatus;
export type StepStatusLabel = StepStatus;

export interface Pagination {
  totalRecords: number;
  currentPage: number;
  totalPages: number;
  nextPage: number;
  prevPage: number;
}

export interface Dag {
  name: string;
  description?: string;
  group?: string;
  tags: string[];
  params: string[];
  defaultParams: string;
  schedule: Array<{ expression: string }>;
  queue?: string;
  maxActiveRuns?: number;
}

export interface RecentRun {
  dagRunId: string;
  status: number;
  statusLabel: RunStatusLabel;
  startedAt: string;
}

export interface DagFile {
  fileName: string;
  dag: Dag;
  latestDAGRun: RunSummary;
  suspended: boolean;
  errors: string[];
  nextRun?: string;
  /** dagflare's addition: the last runs, newest first. */
  recentRuns?: RecentRun[];
}

export interface DagList {
  dags: DagFile[];
  errors: string[];
  pagination: Pagination;
}

export interface Step {
  name: string;
  id?: string;
  description?: string;
  command?: string;
  script?: string;
  output?: string;
  depends: string[];
  call?: string;
  params?: string;
  parallel?: { items: unknown; maxConcurrent?: number };
}

export interface DagDetails extends Dag {
  env: string[];
  steps: Step[];
  handlerOn?: Partial<Record<HandlerKind, Step>>;
}

export interface RunSummary {
  rootDAGRunName: string;
  rootDAGRunId: string;
  parentDAGRunName?: string;
  parentDAGRunId?: string;
  dagRunId: string;
  name: string;
  status: number;
  statusLabel: RunStatusLabel;
  /** Left out until the run was queued (a DAG that never ran). */
  queuedAt?: string;
  /** "" until set. */
  startedAt: string;
  finishedAt: string;
  log: string;
  /** Left out when the run has none. */
  params?: string;
  waitingFor?: string;
}

export interface RunNode {
  step: Step;
  stdout: string;
  stderr: string;
  startedAt: string;
  finishedAt: string;
  status: number;
  statusLabel: StepStatusLabel;
  retryCount: number;
  doneCount: number;
  error?: string;
  attempt: number;
  exitCode?: number;
  runnerId?: string;
  subRuns?: Array<{ dagRunId: string; params?: string }>;
  /** A parallel step: the node of each of its instances (dagflare's addition). */
  instances?: RunNode[];
}

export const HANDLER_KEYS = ["onInit", "onSuccess", "onFailure", "onCancel", "onExit"] as const;
export type HandlerKey = (typeof HANDLER_KEYS)[number];
/** `handlerOn`'s keys in a DAG's details ("abort" is Dagu's older name of "cancel"). */
export type HandlerKind = "init" | "success" | "failure" | "cancel" | "abort" | "exit";
/** The node each handler kind becomes in a run's details. */
export const HANDLER_NODE: Record<HandlerKind, HandlerKey> = {
  init: "onInit",
  success: "onSuccess",
  failure: "onFailure",
  cancel: "onCancel",
  abort: "onCancel",
  exit: "onExit",
};

export interface RunDetails extends RunSummary, Partial<Record<HandlerKey, RunNode>> {
  nodes: RunNode[];
  preconditions?: Array<{ condition: string; expected?: string; matched?: boolean; error?: string }>;
}

export interface DagDetailsResponse {
  dag: DagDetails;
  latestDAGRun: RunDetails;
  suspended: boolean;
  errors: string[];
}

export interface GridItem {
  name: string;
  history: number[];
}

export interface DagRunsOfDag {
  dagRuns: RunDetails[];
  gridData: GridItem[];
}

export interface LogSlice {
  content: string;
  lineCount: number;
  totalLines: number;
  hasMore: boolean;
  isEstimate: boolean;
  attempt?: number;
  droppedBytes?: number;
}

export interface ValidateResponse {
  valid: boolean;
  errors: string[];
  dag?: DagDetails;
}

export interface Worker {
  id: string;
  labels: Record<string, string>;
  totalPollers: number;
  busyPollers: number;
  /** dagflare places steps on runners: each task names its step. */
  runningTasks: Array<{ dagRunId: string; dagName: string; startedAt: string; stepName?: string }>;
  lastHeartbeatAt: string;
  healthStatus: "healthy" | "warning" | "unhealthy";
}

export interface Queue {
  name: string;
  type: "global" | "dag-based";
  maxConcurrency?: number;
  running: RunSummary[];
  queued: RunSummary[];
}

export interface QueuesResponse {
  queues: Queue[];
  summary: {
    totalQueues: number;
    totalRunning: number;
    totalQueued: number;
    totalCapacity: number;
    utilizationPercentage: number;
  };
}

/** A runner token as listed (its secret is only in the answer that created it). */
export interface RunnerToken {
  id: string;
  name: string;
  createdAt: string;
  revokedAt?: string;
}
