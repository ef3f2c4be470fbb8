// What crosses the RunObject's RPC boundary, apart from the class: the shapes its callers (the
// routes, the dispatcher, the live view, other runs) send and get back. Plain types in a module
// of their own, so that a caller never imports the object that calls it back.
import type { DagDef } from "../../dag/types";
import type { ErrorCode } from "../../errors";
import type { LogEntry, StepOutcome } from "../../shared/protocol";
import type { RunStatus } from "../../status";
import type { RunState } from "../engine";

/** What a run is started with, and what the RunObject stores of it. */
export interface RunInit {
  runId: string;
  dag: DagDef;
  params: { named: Array<[string, string]>; positional: string[] };
  /** Params as the user gave them, for display. */
  paramsText: string;
  /** Set for a sub-DAG run: the run whose call step started it. */
  parent?: ParentRef;
}

/** Where a sub-DAG run sits: the run and step that called it, and the top of the call chain. */
export interface ParentRef {
  runId: string;
  dagName: string;
  step: string;
  rootRunId: string;
  rootDagName: string;
  /** 1 for a child of a top-level run. */
  depth: number;
}

/** What a finished sub-DAG run tells the run that called it. */
export interface SubRunReport {
  step: string;
  childRunId: string;
  status: RunStatus;
  outputs: Record<string, string>;
  paramsText: string;
}

/** A dispatch of a step of this run that a runner's request took: the step and its dispatchSeq. */
export interface Claim {
  step: string;
  dispatchSeq: number;
}

/** A runner's report of one attempt, as `complete` takes it. */
export interface CompletionReport {
  token: string;
  outcome: StepOutcome;
  droppedLogBytes: number;
  /** Run under an offer: the dispatch and attempt the lease before it in the call must grant. */
  offered?: { dispatchSeq: number; attempt: number };
  /** The attempt's log entries not shipped yet: stored with the completion, or not at all. */
  logs?: LogEntry[];
}

/** One completion's answer, as `completeMany` gives it. */
export type CompletionResultData =
  | { accepted: boolean; token?: string }
  | { refused: { code: ErrorCode; status: number; message: string } };

export interface RunSnapshot {
  dag: DagDef;
  state: RunState;
  paramsText: string;
  parent?: ParentRef;
}
