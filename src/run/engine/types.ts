// The engine's state, context, events, effects and replies: the types every module shares. PURE.

import type { ResolvedParams } from "../../dag/params";
import type { DagDef, StepDef } from "../../dag/types";
import type { StepOutcome } from "../../shared/protocol";
import type { FinalStepStatus, RunStatus, StepStatus } from "../../status";

/** A lost lease (runner vanished) is re-dispatched without using the retry budget, this often. */
export const MAX_LOST_ATTEMPTS = 3;
/** The server's own timeout fires this long after the runner's, in case the runner is gone. */
export const TIMEOUT_GRACE_MS = 15_000;
/**
 * A new lease must be confirmed (a heartbeat or a completion) this soon, or it is taken back
 * without counting an attempt: it went to a runner that was gone before it could start it.
 */
export const CONFIRM_WITHIN_MS = 5_000;

/** The lease a runner holds on a step's current attempt. */
export interface StepLease {
  leaseId: string;
  token: string;
  runnerId: string;
  expiresAt: number;
  /** The run was stopped: the runner learns it at its next heartbeat. */
  cancelRequested: boolean;
}

/**
 * Where a step is in its life: one case per state the engine tells apart, each carrying only
 * what is meaningful in it. Dagu's status (what the API shows) is derived from it by `statusOf`
 * (phase.ts); the README's "Step phases" has the diagram.
 */
export type Phase =
  /** Not ready yet (or reset by a retry of the run). */
  | { kind: "idle" }
  /** Ready, held back by the DAG's maxActiveSteps or its parallel group's maxConcurrent. */
  | { kind: "held" }
  /** Dispatched (task `dispatchSeq`): waiting for a runner to claim it. */
  | { kind: "queued" }
  /** Claimed; the runner has not yet confirmed it started (a heartbeat or a completion). */
  | { kind: "leased"; lease: StepLease }
  /** Running on a runner that confirmed its lease. */
  | { kind: "running"; lease: StepLease }
  /** A call step: its sub-DAG run is under way and reports its end. */
  | { kind: "calling"; childRunId: string; stopRequested: boolean }
  /** A fan-out step: its instances run, and it ends with them. */
  | { kind: "fannedOut" }
  /** Under a repeatPolicy, between two executions; the next is due at `at`. */
  | { kind: "repeatWait"; at: number }
  /** A failed attempt under a retryPolicy; the next attempt is due at `at`. */
  | { kind: "retryWait"; at: number }
  /** Ready, waiting for a person to approve or reject it. */
  | { kind: "awaitingApproval" }
  /** Finished, with its final status. */
  | { kind: "done"; status: FinalStepStatus };

export type PhaseKind = Phase["kind"];
export type PhaseOf<K extends PhaseKind> = Extract<Phase, { kind: K }>;

export interface StepState {
  name: string;
  phase: Phase;
  /**
   * Dagu's status, derived from `phase` by `statusOf` whenever the phase is written (Draft.put):
   * kept beside it for the many readers of the status, never set on its own.
   */
  readonly status: StepStatus;
  /** Times this step was handed to a runner, from 1. */
  attempt: number;
  /** Retries consumed by failed attempts (the contract's retryCount). */
  retryCount: number;
  /** Attempts lost with their runner. */
  lostCount: number;
  /** Bumped on every dispatch; a claim for an older value is stale. */
  dispatchSeq: number;
  /** Tokens of completions already accepted: a repeat is answered, not applied twice. */
  doneTokens: string[];
  /** When the step was last dispatched (it became ready). */
  readyAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** The runner's clock: when the process of the accepted attempt started and exited. */
  processStartedAt?: number;
  processExitedAt?: number;
  exitCode?: number | null;
  /**
   * The runner that last ran an attempt of this step (it confirmed its lease or reported a
   * result), kept once the lease ended: its logs and DAG_RUN_*_FILE files are on that host. A
   * runner that never called about its lease (taken back, released unstarted) does not replace it.
   * Absent on steps stored before it was kept.
   */
  runnerId?: string;
  /** The files of the last attempt's stdout and stderr, on the host of the runner that ran it. */
  stdoutPath?: string;
  stderrPath?: string;
  error?: string;
  /** The runner saw a continueOn.output pattern in the step's output (last attempt). */
  outputMatched?: boolean;
  /** Executions that ran to an outcome (more than one under a repeatPolicy). */
  doneCount?: number;
  /** A step marked for approval was approved: it may be dispatched (until the run is retried). */
  approved?: boolean;
  /** Every sub-DAG run a call step started, one per attempt, oldest first. */
  subRuns?: string[];
  /** An instance of a fan-out step (fanout.ts): its ITEM. */
  item?: string;
  /** A fan-out step: how many instances its current expansion has (kept once it ended). */
  instances?: number;
  /**
   * Env values a runner evaluated (backticks) and sent back, by name: the step's own, which its
   * later attempts get as they are; on the run's env step, the DAG's, which every step gets.
   */
  envValues?: Record<string, string>;
  /**
   * An instance of a fan-out step: what it gives its step's aggregate output (fanout-items.ts).
   * A call instance's sub-DAG run (its DAG, run id, params text and output variables); a command
   * instance's captured output variable.
   */
  result?: { dagName?: string; dagRunId?: string; params?: string; outputs: Record<string, string> };
}

/** What a handler may change on a step besides its phase (which `Draft.move` writes). */
export type StepPatch = Partial<Omit<StepState, "name" | "phase" | "status">>;

export interface RunState {
  runId: string;
  dagName: string;
  status: RunStatus;
  stopRequested: boolean;
  /** The DAG's timeoutSec passed: the run was stopped, and fails. */
  timedOut?: boolean;
  /** A DAG precondition was not met: the run was aborted before any step ran. */
  preconditionUnmet?: string;
  /** A retry of some steps waits for handlerOn.init to run again: then these steps start. */
  retryFrom?: string[];
  /** A step waiting for approval was rejected: the run was stopped and ends `rejected`. */
  rejected?: boolean;
  /**
   * Set once the DAG's steps are all done: the run's status so far (DAG_RUN_STATUS of the
   * handlers) and the handlers still to run, in order; the first is the one running.
   */
  handlers?: { status: RunStatus; queue: string[] };
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Output variables captured so far, by variable name. */
  outputs: Record<string, string>;
  /** Which step captured each output variable's current value. */
  outputSteps?: Record<string, string>;
  steps: Record<string, StepState>;
  /** Instances fan-out steps added, in the order added: they follow the other steps in allSteps. */
  fanoutInstances?: string[];
}

/** Per run: the DAG and what is derived from it; a new one only when a fan-out step adds instances. */
export interface MachineContext {
  dag: DagDef;
  leaseTtlMs: number;
  /**
   * The DAG's steps, then the steps dagflare adds (the DAG precondition check, the handlers),
   * then the instances fan-out steps added at run time; a lease names its step by index here.
   */
  allSteps: StepDef[];
  stepsByName: Map<string, StepDef>;
  /** Each step's position in allSteps (a lease's step index), computed once. */
  indexOf: Map<string, number>;
  dependents: Map<string, string[]>;
  /** The handler steps dagflare added (handlerOn), by name. */
  handlerNames: ReadonlySet<string>;
  /** The run's params: a fan-out step's items may come from one. */
  params?: ResolvedParams;
}

/** A runner's report of one attempt: the protocol's one result shape (src/shared/protocol.ts). */
export type StepResult = StepOutcome;

export type RunEvent =
  | { type: "start" }
  | { type: "claim"; step: string; dispatchSeq: number; runnerId: string; leaseId: string; token: string }
  | { type: "heartbeat"; step: string; token: string }
  | { type: "complete"; step: string; token: string; result: StepResult }
  | { type: "release"; step: string; token: string; reason: string }
  /** A timer of the engine came due; `key` is its stored key (timers.ts). */
  | { type: "timer"; key: string }
  | { type: "stop" }
  /** A person approved or rejected a step waiting for approval. */
  | { type: "approve"; step: string; approved: boolean; reason?: string }
  /** Run these steps of a finished run again, in place (POST .../retry); `all`: the whole run. */
  | { type: "retry"; steps: string[]; all?: boolean }
  /** Set a step's status by hand on a finished run (PATCH .../steps/{step}/status). */
  | { type: "setStatus"; step: string; status: FinalStepStatus }
  /** A call step's sub-DAG run ended (or could not be started: `error`). */
  | {
      type: "childDone";
      step: string;
      childRunId: string;
      status: RunStatus;
      outputs: Record<string, string>;
      paramsText: string;
      error?: string;
    };

export type EventOf<K extends RunEvent["type"]> = Extract<RunEvent, { type: K }>;

export type Effect =
  | { type: "dispatch"; step: string; dispatchSeq: number }
  | { type: "setTimer"; key: string; at: number }
  | { type: "clearTimer"; key: string }
  | { type: "log"; message: string }
  | { type: "runStatus"; status: RunStatus }
  /** A runner let a lease expire: its long polls begun before `at` must not get work. */
  | { type: "runnerLost"; runnerId: string; at: number }
  /**
   * An attempt number was given back (its lease taken back unconfirmed, or released): the next
   * lease uses it again, so what the lease that held it logged goes. No log statement otherwise.
   */
  | { type: "clearLog"; step: string; attempt: number }
  /** Create and start the sub-DAG run of a call step (idempotent: the id is fixed). */
  | { type: "startChild"; step: string; childRunId: string }
  /** Stop a sub-DAG run. */
  | { type: "stopChild"; childRunId: string };

export type Reply =
  | { kind: "none" }
  | { kind: "claimed"; attempt: number }
  | { kind: "stale"; reason: string }
  | { kind: "heartbeat"; cancel: boolean }
  | { kind: "completed"; accepted: boolean }
  /** `ok` false: the step was not waiting for approval (its status is given). */
  | { kind: "approval"; ok: boolean; status: StepStatus }
  /** A retry or a manual status change; `reason` says why it was refused. */
  | { kind: "manual"; ok: boolean; reason?: string };

export interface Transition {
  state: RunState;
  /** The steps the event wrote (added or replaced): what the RunObject stores and tells live sockets. */
  changed: string[];
  /** The context after the event: a new one when a fan-out step added instances. */
  context: MachineContext;
  effects: Effect[];
  reply: Reply;
}
