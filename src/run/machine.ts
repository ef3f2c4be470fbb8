// The run state machine: PURE. `transition(ctx, state, event, now)` returns the next state, the
// effects the RunObject must perform, and a reply for the caller. Only this file assigns a status.
// See src/run/README.md for the glossary and the state diagram.
import type { ResolvedParams } from "../dag/params";
import { type DagDef, HANDLER_NAMES, type HandlerKind, type StepDef } from "../dag/types";
import { MAX_RUN_OUTPUTS_BYTES, MAX_SERVER_TIMER_SEC, showBytes, utf8Bytes } from "../limits";
import type { StepOutcome } from "../shared/protocol";
import { isTerminalRun, isTerminalStep, type RunStatus, type StepStatus } from "../status";
import { awaitsInstances, expandFanout, type FanoutHost, instanceDefs, instanceFinished } from "./fanout";

/** A lost lease (runner vanished) is re-dispatched without using the retry budget, this often. */
export const MAX_LOST_ATTEMPTS = 3;
/** The server's own timeout fires this long after the runner's, in case the runner is gone. */
export const TIMEOUT_GRACE_MS = 15_000;
/**
 * A new lease must be confirmed (a heartbeat or a completion) this soon, or it is taken back
 * without counting an attempt: it went to a runner that was gone before it could start it.
 */
export const CONFIRM_WITHIN_MS = 5_000;

export interface LeaseState {
  leaseId: string;
  token: string;
  runnerId: string;
  expiresAt: number;
  cancelRequested: boolean;
  /** Whether the runner has called about this lease since it was granted. */
  confirmed: boolean;
}

export interface StepState {
  name: string;
  status: StepStatus;
  /** Times this step was handed to a runner, from 1. */
  attempt: number;
  /** Retries consumed by failed attempts (the contract's retryCount). */
  retryCount: number;
  /** Attempts lost with their runner. */
  lostCount: number;
  /** Bumped on every dispatch; a claim for an older value is stale. */
  dispatchSeq: number;
  /** True while a dispatch is waiting for a runner to claim it. */
  queued: boolean;
  lease?: LeaseState;
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
  error?: string;
  /** The runner saw a continueOn.output pattern in the step's output (last attempt). */
  outputMatched?: boolean;
  /** Executions that ran to an outcome (more than one under a repeatPolicy). */
  doneCount?: number;
  /** Ready but held back by the DAG's maxActiveSteps. */
  pending?: boolean;
  /** A step marked for approval was approved: it may be dispatched. */
  approved?: boolean;
  /** A call step's sub-DAG run under way (no lease: the child run reports its end). */
  child?: { runId: string; stopRequested?: boolean };
  /** Every sub-DAG run a call step started, one per attempt, oldest first. */
  subRuns?: string[];
  /** An instance of a fan-out step (src/run/fanout.ts): its ITEM. */
  item?: string;
  /** A fan-out step: how many instances its current expansion has. */
  instances?: number;
}

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
  dependents: Map<string, string[]>;
  /** The run's params: a fan-out step's items may come from one. */
  params?: ResolvedParams;
}

/**
 * The step that checks the DAG's preconditions on a runner (they may need a shell) before any
 * step of the DAG is dispatched. It is not one of the DAG's nodes.
 */
export const DAG_PRECONDITIONS_STEP = "(dag preconditions)";

/** Steps the run has besides the DAG's own: the precondition check, then the handlers. */
export function extraSteps(dag: DagDef): StepDef[] {
  const handlers = HANDLER_ORDER.flatMap((k) => dag.handlerOn?.[k] ?? []);
  if (!dag.preconditions?.length) return handlers;
  return [
    {
      name: DAG_PRECONDITIONS_STEP,
      command: "true",
      depends: [],
      env: [],
      retryPolicy: { limit: 0, intervalSec: 0 },
      continueOn: { failure: false, skipped: false, exitCode: [] },
      preconditions: dag.preconditions,
    },
    ...handlers,
  ];
}

const HANDLER_ORDER: HandlerKind[] = ["init", "success", "failure", "cancel", "exit"];
const INIT_STEP = HANDLER_NAMES.init;

/** Dagu's order: the handler of the outcome (a partial success counts as a success), then exit. */
function handlerQueue(dag: DagDef, status: RunStatus): string[] {
  const first: HandlerKind =
    status === "failed" || status === "rejected" ? "failure" : status === "aborted" ? "cancel" : "success";
  return ([first, "exit"] as HandlerKind[]).filter((k) => dag.handlerOn?.[k]).map((k) => HANDLER_NAMES[k]);
}

function isHandler(d: Draft, name: string): boolean {
  return (
    d.ctx.dag.handlerOn !== undefined &&
    Object.values(HANDLER_NAMES).includes(name) &&
    !d.ctx.dag.steps.some((s) => s.name === name)
  );
}

/** `run.state`: the instances it holds are part of the context (a fan-out adds a new context). */
export function createContext(
  dag: DagDef,
  leaseTtlMs: number,
  run: { params?: ResolvedParams; state?: RunState } = {},
): MachineContext {
  const allSteps = [...dag.steps, ...extraSteps(dag), ...instanceDefs(dag, run.state)];
  const stepsByName = new Map(allSteps.map((s) => [s.name, s]));
  const dependents = new Map<string, string[]>(allSteps.map((s) => [s.name, []]));
  for (const s of dag.steps) for (const d of s.depends) dependents.get(d)?.push(s.name);
  return { dag, leaseTtlMs, allSteps, stepsByName, dependents, params: run.params };
}

/** A runner's report of one attempt: the protocol's one result shape (src/shared/protocol.ts). */
export type StepResult = StepOutcome;

export type RunEvent =
  | { type: "start" }
  | { type: "claim"; step: string; dispatchSeq: number; runnerId: string; leaseId: string; token: string }
  | { type: "heartbeat"; step: string; token: string }
  | { type: "complete"; step: string; token: string; result: StepResult }
  | { type: "release"; step: string; token: string; reason: string }
  | { type: "timer"; key: string }
  | { type: "stop" }
  /** A person approved or rejected a step waiting for approval. */
  | { type: "approve"; step: string; approved: boolean; reason?: string }
  /** Run these steps of a finished run again, in place (POST .../retry); `all`: the whole run. */
  | { type: "retry"; steps: string[]; all?: boolean }
  /** Set a step's status by hand on a finished run (PATCH .../steps/{step}/status). */
  | { type: "setStatus"; step: string; status: StepStatus }
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

export type Effect =
  | { type: "dispatch"; step: string; dispatchSeq: number }
  | { type: "setTimer"; key: string; at: number }
  | { type: "clearTimer"; key: string }
  | { type: "log"; message: string }
  | { type: "runStatus"; status: RunStatus }
  /** A runner let a lease expire: its long polls begun before `at` must not get work. */
  | { type: "runnerLost"; runnerId: string; at: number }
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
  /** The context after the event: a new one when a fan-out step added instances. */
  context: MachineContext;
  effects: Effect[];
  reply: Reply;
}

export const timerKey = {
  lease: (step: string) => `lease:${step}`,
  timeout: (step: string) => `timeout:${step}`,
  retry: (step: string) => `retry:${step}`,
  repeat: (step: string) => `repeat:${step}`,
  /** Run-level timers. */
  runTimeout: "run:timeout",
  runDelay: "run:delay",
};

export function initialState(runId: string, dag: DagDef, now: number, status: RunStatus = "not_started"): RunState {
  const steps: Record<string, StepState> = {};
  for (const s of [...dag.steps, ...extraSteps(dag)]) steps[s.name] = newStep(s.name);
  return { runId, dagName: dag.name, status, stopRequested: false, createdAt: now, outputs: {}, steps };
}

export function newStep(name: string): StepState {
  return {
    name,
    status: "not_started",
    attempt: 0,
    retryCount: 0,
    lostCount: 0,
    dispatchSeq: 0,
    queued: false,
    doneTokens: [],
  };
}

/** Whether a step's outcome lets its dependents run. */
export function letsDependentsRun(def: StepDef, step: StepState): boolean {
  switch (step.status) {
    case "succeeded":
    case "partially_succeeded":
      return true;
    case "failed":
      return continueCovers(def, step);
    case "skipped":
      return def.continueOn.skipped;
    default:
      return false;
  }
}

/** Whether continueOn lets the DAG go on after this failed step. */
function continueCovers(def: StepDef, step: Pick<StepState, "exitCode" | "outputMatched">): boolean {
  const c = def.continueOn;
  return (
    c.failure ||
    (step.exitCode != null && c.exitCode.includes(step.exitCode)) ||
    (Boolean(c.output?.length) && step.outputMatched === true)
  );
}

/**
 * `base * backoff^(n-1)` seconds for the n-th wait (n from 1), capped by maxIntervalSec, and
 * by the longest timer the server runs (a backoff grows past any date a timer can take).
 */
export function intervalMs(p: { intervalSec: number; backoff?: number; maxIntervalSec?: number }, n: number): number {
  let sec = p.intervalSec * (p.backoff ? p.backoff ** Math.max(0, n - 1) : 1);
  sec = Math.min(sec, p.maxIntervalSec ?? MAX_SERVER_TIMER_SEC, MAX_SERVER_TIMER_SEC);
  return Math.round(sec * 1000);
}

/** A working copy: steps are copied on write, so the input state is never mutated. */
class Draft {
  readonly effects: Effect[] = [];
  /** Steps that reached a final status during this transition, in order. */
  readonly finished: string[] = [];
  readonly state: RunState;
  constructor(
    /** Replaced when a fan-out step adds instances. */
    public ctx: MachineContext,
    base: RunState,
    readonly now: number,
  ) {
    this.state = { ...base, steps: { ...base.steps }, outputs: base.outputs };
  }
  step(name: string): StepState {
    const s = this.state.steps[name];
    if (!s) throw new Error(`unknown step ${name}`);
    return s;
  }
  update(name: string, patch: Partial<StepState>): StepState {
    const next = { ...this.step(name), ...patch };
    this.state.steps[name] = next;
    return next;
  }
  log(message: string): void {
    this.effects.push({ type: "log", message });
  }
  def(name: string): StepDef {
    const d = this.ctx.stepsByName.get(name);
    if (!d) throw new Error(`unknown step ${name}`);
    return d;
  }
}

export function transition(ctx: MachineContext, state: RunState, event: RunEvent, now: number): Transition {
  const d = new Draft(ctx, state, now);
  const reply = apply(d, event);
  settle(d);
  return { state: d.state, context: d.ctx, effects: d.effects, reply };
}

function apply(d: Draft, event: RunEvent): Reply {
  switch (event.type) {
    case "start":
      return onStart(d);
    case "claim":
      return onClaim(d, event);
    case "heartbeat":
      return onHeartbeat(d, event);
    case "complete":
      return onComplete(d, event);
    case "release":
      return onRelease(d, event);
    case "timer":
      return onTimer(d, event.key);
    case "stop":
      return onStop(d);
    case "approve":
      return onApprove(d, event);
    case "retry":
      return onRetry(d, event.steps, event.all ?? false);
    case "setStatus":
      return onSetStatus(d, event.step, event.status);
    case "childDone":
      return onChildDone(d, event);
  }
}

function onStart(d: Draft): Reply {
  if (d.state.status !== "not_started" && d.state.status !== "queued") return { kind: "none" };
  d.state.status = "running";
  d.state.startedAt = d.now;
  d.effects.push({ type: "runStatus", status: "running" });
  d.log(`run ${d.state.runId} of ${d.state.dagName} started`);
  const dag = d.ctx.dag;
  if (dag.timeoutSec) d.effects.push({ type: "setTimer", key: timerKey.runTimeout, at: d.now + dag.timeoutSec * 1000 });
  if (d.ctx.stepsByName.has(DAG_PRECONDITIONS_STEP)) dispatch(d, DAG_PRECONDITIONS_STEP);
  else afterPreconditions(d);
  return { kind: "none" };
}

/** The DAG's preconditions hold (or it has none): handlerOn.init runs, alone, before any step. */
function afterPreconditions(d: Draft): void {
  if (d.ctx.dag.handlerOn?.init) dispatch(d, INIT_STEP);
  else beforeSteps(d);
}

/** handlerOn.init ended: the steps go on, or (it failed or was stopped) none of them runs. */
function initDone(d: Draft, status: StepStatus, error?: string): void {
  if (initLetsStepsRun(d)) {
    const from = d.state.retryFrom;
    d.state.retryFrom = undefined;
    if (d.state.stopRequested) return;
    if (from) for (const name of from) startWhenReady(d, name);
    else beforeSteps(d);
    return;
  }
  d.state.retryFrom = undefined;
  for (const def of d.ctx.dag.steps) {
    if (!isTerminalStep(d.step(def.name).status)) {
      finishStep(d, def.name, "aborted", `handlerOn.init ${status}${error ? `: ${error}` : ""}`);
    }
  }
}

function initLetsStepsRun(d: Draft): boolean {
  const s = d.step(INIT_STEP);
  return (
    s.status === "succeeded" || s.status === "skipped" || (s.status === "failed" && continueCovers(d.def(INIT_STEP), s))
  );
}

/** Wait delaySec, then dispatch the first steps. */
function beforeSteps(d: Draft): void {
  const delaySec = d.ctx.dag.delaySec;
  if (delaySec) {
    d.log(`first steps start in ${delaySec}s (delaySec)`);
    d.effects.push({ type: "setTimer", key: timerKey.runDelay, at: d.now + delaySec * 1000 });
  } else dispatchRoots(d);
}

function dispatchRoots(d: Draft): void {
  for (const def of d.ctx.dag.steps) if (def.depends.length === 0) dispatch(d, def.name);
}

/** Waiting for a runner, running on one, or running a sub-DAG: what maxActiveSteps counts. */
function occupies(s: StepState): boolean {
  return s.queued || (s.status === "running" && (s.lease !== undefined || s.child !== undefined));
}

function activeSteps(d: Draft): number {
  let n = 0;
  for (const s of Object.values(d.state.steps)) if (occupies(s)) n++;
  return n;
}

function dispatch(d: Draft, name: string, fromQueue = false): void {
  if (d.def(name).fanout) {
    expandFanout(fanoutHost(d), name);
    return;
  }
  const approval = d.def(name).approval;
  if (approval && !d.step(name).approved) {
    // Waits for POST .../approve or /reject; it holds no runner slot meanwhile.
    d.update(name, { status: "waiting", queued: false, pending: false, lease: undefined, readyAt: d.now });
    d.log(`step ${name} waits for approval${approval.prompt ? `: ${approval.prompt}` : ""}`);
    return;
  }
  const max = d.ctx.dag.maxActiveSteps;
  const waiting = () => Object.values(d.state.steps).some((s) => s.pending && s.name !== name);
  if ((max && (activeSteps(d) >= max || (!fromQueue && waiting()))) || groupFull(d, name)) {
    // Held back; fillSlots dispatches it when a step ends.
    if (!d.step(name).pending) d.update(name, { status: "not_started", pending: true, lease: undefined });
    return;
  }
  if (d.def(name).call) {
    startCall(d, name);
    return;
  }
  const s = d.step(name);
  const next = d.update(name, {
    status: "not_started",
    queued: true,
    pending: false,
    dispatchSeq: s.dispatchSeq + 1,
    lease: undefined,
    readyAt: d.now,
  });
  d.effects.push({ type: "dispatch", step: name, dispatchSeq: next.dispatchSeq });
}

/**
 * The id of the sub-DAG run a call step starts: fixed by the parent run, the step's position and
 * its dispatch number, so that starting it again (after an interruption) finds the same run.
 */
export function subRunId(runId: string, index: number, dispatchSeq: number): string {
  return `${runId}-${index}-${dispatchSeq}`;
}

/** A call step runs: its sub-DAG run is started; the step ends when that run reports its end. */
function startCall(d: Draft, name: string): void {
  const s = d.step(name);
  const def = d.def(name);
  const dispatchSeq = s.dispatchSeq + 1;
  const childRunId = subRunId(d.state.runId, d.ctx.allSteps.indexOf(def), dispatchSeq);
  const attempt = s.attempt + 1;
  d.update(name, {
    status: "running",
    queued: false,
    pending: false,
    dispatchSeq,
    attempt,
    lease: undefined,
    child: { runId: childRunId },
    subRuns: [...(s.subRuns ?? []), childRunId],
    readyAt: d.now,
    startedAt: d.now,
    finishedAt: undefined,
    exitCode: undefined,
    error: undefined,
  });
  d.effects.push({ type: "startChild", step: name, childRunId });
  if (def.timeoutSec) {
    d.effects.push({ type: "setTimer", key: timerKey.timeout(name), at: d.now + def.timeoutSec * 1000 });
  }
  d.log(`step ${name} attempt ${attempt}: calls DAG ${def.call?.dag} as sub-DAG run ${childRunId}`);
}

function onChildDone(d: Draft, e: Extract<RunEvent, { type: "childDone" }>): Reply {
  const s = d.step(e.step);
  const child = s.child;
  // A report of an earlier attempt's child, or one already applied.
  if (s.status !== "running" || child?.runId !== e.childRunId) return { kind: "none" };
  const def = d.def(e.step);
  const what = `sub-DAG run ${e.childRunId} of ${def.call?.dag}`;
  d.update(e.step, { child: undefined });
  // Dagu's shape: the child's name, its params and its outputs (`${OUT.outputs.NAME}`).
  const value = def.output && JSON.stringify({ name: def.call?.dag, params: e.paramsText, outputs: e.outputs });
  const done = e.status === "succeeded" || e.status === "partially_succeeded";
  const tooBig = done && def.output && value ? outputsOverLimit(d, def.output, value) : undefined;
  if (tooBig) {
    failAttempt(d, e.step, tooBig);
  } else if (e.status === "succeeded" || e.status === "partially_succeeded") {
    if (def.output && value) setOutput(d, e.step, def.output, value);
    d.update(e.step, { doneCount: (s.doneCount ?? 0) + 1 });
    finishStep(d, e.step, e.status);
  } else if (child.stopRequested || e.status === "aborted") {
    finishStep(d, e.step, "aborted", e.error ?? `${what} was aborted`);
  } else {
    failAttempt(d, e.step, e.error ?? `${what} ${e.status}`);
  }
  return { kind: "none" };
}

/** Whether the parallel step `name` is an instance of already runs maxConcurrent instances. */
function groupFull(d: Draft, name: string): boolean {
  const group = d.def(name).parallelGroup;
  if (!group) return false;
  let n = 0;
  for (const s of Object.values(d.state.steps)) {
    if (!occupies(s)) continue;
    if (d.ctx.stepsByName.get(s.name)?.parallelGroup?.name === group.name) n++;
  }
  return n >= group.maxConcurrent;
}

/** Dispatches steps held back by maxActiveSteps or maxConcurrent, in DAG order, while there is room. */
function fillSlots(d: Draft): void {
  const max = d.ctx.dag.maxActiveSteps;
  if (d.state.stopRequested) return;
  for (const def of d.ctx.allSteps) {
    if (max && activeSteps(d) >= max) return;
    if (d.step(def.name).pending && !groupFull(d, def.name)) dispatch(d, def.name, true);
  }
}

function onClaim(d: Draft, e: Extract<RunEvent, { type: "claim" }>): Reply {
  const s = d.step(e.step);
  // Under a stop only the running handler (onCancel, onExit) may still be claimed.
  const stopped = d.state.stopRequested && d.state.handlers?.queue[0] !== e.step;
  if (!s.queued || s.dispatchSeq !== e.dispatchSeq || stopped) {
    return { kind: "stale", reason: "this dispatch is no longer wanted" };
  }
  const attempt = s.attempt + 1;
  const expiresAt = d.now + Math.min(d.ctx.leaseTtlMs, CONFIRM_WITHIN_MS);
  d.update(e.step, {
    status: "running",
    queued: false,
    attempt,
    startedAt: d.now,
    finishedAt: undefined,
    exitCode: undefined,
    error: undefined,
    lease: {
      leaseId: e.leaseId,
      token: e.token,
      runnerId: e.runnerId,
      expiresAt,
      cancelRequested: false,
      confirmed: false,
    },
  });
  d.effects.push({ type: "setTimer", key: timerKey.lease(e.step), at: expiresAt });
  const timeoutSec = d.def(e.step).timeoutSec;
  if (timeoutSec) {
    d.effects.push({
      type: "setTimer",
      key: timerKey.timeout(e.step),
      // The runner reports a timeout once the group is gone: after the DAG's clean-up time.
      at: d.now + timeoutSec * 1000 + TIMEOUT_GRACE_MS + (d.ctx.dag.maxCleanUpTimeSec ?? 0) * 1000,
    });
  }
  d.log(`step ${e.step} attempt ${attempt} leased to runner ${e.runnerId}`);
  return { kind: "claimed", attempt };
}

function currentLease(d: Draft, name: string, token: string): LeaseState | undefined {
  const s = d.step(name);
  return s.status === "running" && s.lease?.token === token ? s.lease : undefined;
}

function onHeartbeat(d: Draft, e: Extract<RunEvent, { type: "heartbeat" }>): Reply {
  const lease = currentLease(d, e.step, e.token);
  if (!lease) return { kind: "stale", reason: "lease is no longer current" };
  const expiresAt = d.now + d.ctx.leaseTtlMs;
  d.update(e.step, { lease: { ...lease, expiresAt, confirmed: true } });
  d.effects.push({ type: "setTimer", key: timerKey.lease(e.step), at: expiresAt });
  return { kind: "heartbeat", cancel: lease.cancelRequested };
}

function onComplete(d: Draft, e: Extract<RunEvent, { type: "complete" }>): Reply {
  const s = d.step(e.step);
  if (s.doneTokens.includes(e.token)) return { kind: "completed", accepted: false };
  const lease = currentLease(d, e.step, e.token);
  if (!lease) return { kind: "stale", reason: "lease is no longer current" };
  const r = e.result;
  const def = d.def(e.step);
  d.update(e.step, {
    doneTokens: [...s.doneTokens, e.token],
    exitCode: r.exitCode,
    outputMatched: r.outputMatched ?? false,
    processStartedAt: r.processStartedAt,
    processExitedAt: r.processExitedAt,
  });
  const succeeded = r.exitCode === 0 && !r.error && !r.timedOut;
  if (r.cancelled || lease.cancelRequested) {
    finishStep(d, e.step, "aborted", "stopped");
  } else if (r.preconditionUnmet !== undefined) {
    if (e.step === DAG_PRECONDITIONS_STEP) abortForPrecondition(d, r.preconditionUnmet);
    else finishStep(d, e.step, "skipped", `precondition not met: ${r.preconditionUnmet}`);
  } else {
    d.update(e.step, { doneCount: (s.doneCount ?? 0) + 1 });
    const tooBig = succeeded && def.output && r.output !== undefined && outputsOverLimit(d, def.output, r.output);
    if (succeeded && def.output && r.output !== undefined && !tooBig) setOutput(d, e.step, def.output, r.output);
    if (tooBig) {
      failAttempt(d, e.step, tooBig);
    } else if (repeatAgain(d, e.step, r, succeeded)) {
      // scheduled by repeatAgain
    } else if (succeeded) {
      finishStep(d, e.step, "succeeded");
      if (e.step === DAG_PRECONDITIONS_STEP) afterPreconditions(d);
    } else failAttempt(d, e.step, describeFailure(r));
  }
  return { kind: "completed", accepted: true };
}

function setOutput(d: Draft, step: string, name: string, value: string): void {
  d.state.outputs = { ...d.state.outputs, [name]: value };
  d.state.outputSteps = { ...d.state.outputSteps, [name]: step };
}

/**
 * Why an output cannot be kept: every later step gets the run's outputs in its environment,
 * which the operating system bounds, so together they stay under MAX_RUN_OUTPUTS_BYTES.
 */
function outputsOverLimit(d: Draft, name: string, value: string): string | undefined {
  let bytes = utf8Bytes(name) + utf8Bytes(value);
  for (const [k, v] of Object.entries(d.state.outputs)) if (k !== name) bytes += utf8Bytes(k) + utf8Bytes(v);
  if (bytes <= MAX_RUN_OUTPUTS_BYTES) return undefined;
  return `output ${name} would bring the run's outputs to ${bytes} bytes, over the limit of ${showBytes(MAX_RUN_OUTPUTS_BYTES)} for a run's outputs`;
}

/** An unmet DAG precondition: the run ends aborted, none of its steps having run. */
function abortForPrecondition(d: Draft, why: string): void {
  finishStep(d, DAG_PRECONDITIONS_STEP, "skipped", `precondition not met: ${why}`);
  d.state.preconditionUnmet = why;
  d.log(`DAG precondition not met: ${why}; the run is aborted`);
  for (const s of Object.values(d.state.steps)) {
    if (!isTerminalStep(s.status)) d.update(s.name, { status: "skipped", error: "DAG precondition not met" });
  }
}

/**
 * Under a repeatPolicy, whether this execution is followed by another; if so, schedules it. The
 * policy's condition (evaluated by the runner), else its exit codes, else success, is what
 * "holds"; `while` repeats while it holds, `until` until it does. A failure that is not one of
 * the policy's exit codes ends the repeating and goes the usual way (retries, failure).
 */
function repeatAgain(d: Draft, name: string, r: StepResult, succeeded: boolean): boolean {
  const p = d.def(name).repeatPolicy;
  if (!p || d.state.stopRequested) return false;
  const byExitCode = r.exitCode != null && (p.exitCode?.includes(r.exitCode) ?? false);
  if (!succeeded && !byExitCode) return false;
  const holds = p.condition !== undefined ? r.repeatConditionMet === true : p.exitCode?.length ? byExitCode : succeeded;
  if (p.mode === "while" ? !holds : holds) return false;
  const done = d.step(name).doneCount ?? 1;
  if (p.limit !== undefined && done >= p.limit) {
    d.log(`step ${name}: repeat limit ${p.limit} reached`);
    return false;
  }
  const wait = intervalMs(p, done);
  clearStepTimers(d, name);
  d.update(name, { status: "running", lease: undefined });
  d.log(`step ${name}: execution ${done} done; repeating in ${wait / 1000}s`);
  if (wait > 0) d.effects.push({ type: "setTimer", key: timerKey.repeat(name), at: d.now + wait });
  else dispatch(d, name);
  return true;
}

function describeFailure(r: StepResult): string {
  if (r.error) return r.error;
  if (r.timedOut) return "timed out";
  if (r.signal) return `killed by ${r.signal}`;
  return `exit status ${r.exitCode}`;
}

function onRelease(d: Draft, e: Extract<RunEvent, { type: "release" }>): Reply {
  const lease = currentLease(d, e.step, e.token);
  if (!lease) return { kind: "stale", reason: "lease is no longer current" };
  clearStepTimers(d, e.step);
  if (lease.cancelRequested) {
    finishStep(d, e.step, "aborted", "stopped");
  } else {
    d.log(`step ${e.step} released by runner ${lease.runnerId} (${e.reason}); dispatching again`);
    // A released attempt did not run to an outcome: it does not count as an attempt.
    d.update(e.step, { attempt: d.step(e.step).attempt - 1 });
    dispatch(d, e.step);
  }
  return { kind: "none" };
}

function onTimer(d: Draft, key: string): Reply {
  if (key === timerKey.runTimeout) return onRunTimeout(d);
  if (key === timerKey.runDelay) {
    if (isActive(d.state.status) && !d.state.stopRequested) dispatchRoots(d);
    return { kind: "none" };
  }
  const colon = key.indexOf(":");
  const kind = key.slice(0, colon);
  const name = key.slice(colon + 1);
  const s = d.state.steps[name];
  if (!s) return { kind: "none" };
  if (kind === "lease" && s.status === "running" && s.lease && s.lease.expiresAt <= d.now) {
    onLeaseLost(d, name, s.lease);
  } else if (kind === "timeout" && s.status === "running" && s.child) {
    d.effects.push({ type: "stopChild", childRunId: s.child.runId });
    failAttempt(d, name, `timed out after ${d.def(name).timeoutSec}s; sub-DAG run ${s.child.runId} stopped`);
  } else if (kind === "timeout" && s.status === "running" && s.lease) {
    d.log(`step ${name}: runner ${s.lease.runnerId} did not report the timeout; failing the attempt`);
    failAttempt(d, name, `timed out after ${d.def(name).timeoutSec}s (runner did not report)`);
  } else if (kind === "retry" && s.status === "retrying" && !d.state.stopRequested) {
    dispatch(d, name);
  } else if (kind === "repeat" && s.status === "running" && !s.lease && !d.state.stopRequested) {
    dispatch(d, name);
  }
  return { kind: "none" };
}

function onRunTimeout(d: Draft): Reply {
  if (isTerminalRun(d.state.status) || d.state.stopRequested) return { kind: "none" };
  d.state.timedOut = true;
  d.log(`run timed out after ${d.ctx.dag.timeoutSec}s (timeoutSec); stopping it`);
  return onStop(d);
}

function onLeaseLost(d: Draft, name: string, lease: LeaseState): void {
  const s = d.step(name);
  clearStepTimers(d, name);
  d.effects.push({ type: "runnerLost", runnerId: lease.runnerId, at: d.now });
  if (lease.cancelRequested) {
    finishStep(d, name, "aborted", "stopped (runner did not confirm)");
    return;
  }
  if (!lease.confirmed) {
    // The runner never called about this lease: it cannot have started the step.
    d.log(`step ${name}: runner ${lease.runnerId} never confirmed its lease; dispatching again`);
    d.update(name, { attempt: s.attempt - 1 });
    dispatch(d, name);
    return;
  }
  const lostCount = s.lostCount + 1;
  d.update(name, { lostCount });
  if (lostCount >= MAX_LOST_ATTEMPTS) {
    finishStep(d, name, "failed", `lost its runner ${lostCount} times (last: ${lease.runnerId})`);
    return;
  }
  d.log(`step ${name}: lease of runner ${lease.runnerId} expired; dispatching again (lost ${lostCount})`);
  dispatch(d, name);
}

function failAttempt(d: Draft, name: string, error: string): void {
  const s = d.step(name);
  const def = d.def(name);
  const policy = def.retryPolicy;
  clearStepTimers(d, name);
  const retriable = !policy.exitCode?.length || (s.exitCode != null && policy.exitCode.includes(s.exitCode));
  if (s.retryCount < policy.limit && retriable && !d.state.stopRequested) {
    const retryCount = s.retryCount + 1;
    const wait = intervalMs(policy, retryCount);
    d.update(name, { status: "retrying", retryCount, error, lease: undefined, child: undefined, finishedAt: d.now });
    d.log(`step ${name} failed (${error}); retry ${retryCount}/${policy.limit} in ${wait / 1000}s`);
    if (wait > 0) {
      d.effects.push({ type: "setTimer", key: timerKey.retry(name), at: d.now + wait });
    } else {
      dispatch(d, name);
    }
    return;
  }
  if (def.continueOn.markSuccess && continueCovers(def, s)) {
    d.log(`step ${name} failed (${error}); marked successful by continueOn.markSuccess`);
    finishStep(d, name, "succeeded");
    return;
  }
  finishStep(d, name, "failed", error);
}

function clearStepTimers(d: Draft, name: string): void {
  d.effects.push(
    { type: "clearTimer", key: timerKey.lease(name) },
    { type: "clearTimer", key: timerKey.timeout(name) },
  );
}

function finishStep(d: Draft, name: string, status: StepStatus, error?: string): void {
  const s = d.step(name);
  clearStepTimers(d, name);
  if (s.status === "retrying") d.effects.push({ type: "clearTimer", key: timerKey.retry(name) });
  if (d.def(name).repeatPolicy) d.effects.push({ type: "clearTimer", key: timerKey.repeat(name) });
  d.update(name, {
    status,
    error,
    lease: undefined,
    child: undefined,
    queued: false,
    pending: false,
    finishedAt: d.now,
  });
  d.finished.push(name);
  d.log(`step ${name} ${status}${error ? `: ${error}` : ""}`);
  instanceFinished(fanoutHost(d), name, (s) => letsDependentsRun(d.def(s.name), s));
  if (name === INIT_STEP && d.ctx.dag.handlerOn?.init) initDone(d, status, error);
  if (name === DAG_PRECONDITIONS_STEP && status === "failed") {
    // The check itself could not be done (its runner was lost, ...): no step can start.
    for (const def of d.ctx.dag.steps) {
      if (!isTerminalStep(d.step(def.name).status)) {
        finishStep(d, def.name, "aborted", `the DAG's preconditions could not be checked: ${error}`);
      }
    }
  }
}

function onStop(d: Draft): Reply {
  if (isTerminalRun(d.state.status) || d.state.stopRequested) return { kind: "none" };
  d.state.stopRequested = true;
  d.log("stop requested");
  for (const s of Object.values(d.state.steps)) {
    if (s.status === "running" && s.lease) {
      // The runner learns at its next heartbeat; if it never calls again, lease expiry aborts it.
      d.update(s.name, { lease: { ...s.lease, cancelRequested: true } });
    } else if (s.status === "running" && s.child) {
      // The step ends when its sub-DAG run, stopped too, reports that it ended.
      d.update(s.name, { child: { ...s.child, stopRequested: true } });
      d.effects.push({ type: "stopChild", childRunId: s.child.runId });
    } else if (isHandler(d, s.name) && !s.queued) {
      // A handler that has not started is for settle to run or drop.
    } else if (awaitsInstances(d.ctx, s)) {
      // A fan-out step ends with its instances (src/run/fanout.ts).
    } else if (!isTerminalStep(s.status)) {
      finishStep(d, s.name, "aborted", "stopped before it ran");
    }
  }
  return { kind: "none" };
}

function onApprove(d: Draft, e: Extract<RunEvent, { type: "approve" }>): Reply {
  const s = d.step(e.step);
  if (s.status !== "waiting" || d.state.stopRequested) return { kind: "approval", ok: false, status: s.status };
  const why = e.reason ? `: ${e.reason}` : "";
  if (!e.approved) {
    d.state.rejected = true;
    finishStep(d, e.step, "rejected", `rejected${why}`);
    onStop(d);
    return { kind: "approval", ok: true, status: "rejected" };
  }
  d.update(e.step, { approved: true });
  d.log(`step ${e.step} approved${why}`);
  const def = d.def(e.step);
  // Without a command, the approval is the whole step.
  if (def.command?.trim() || def.script?.trim() || def.call) dispatch(d, e.step);
  else finishStep(d, e.step, "succeeded");
  return { kind: "approval", ok: true, status: d.step(e.step).status };
}

/**
 * Re-opens a finished run for `names`: each is reset (its attempt count kept, so the logs of
 * earlier attempts stay readable) and runs once its dependencies let it; the other steps keep
 * their outcome and outputs. The handlers run again at the end. `all`: every step, the DAG's
 * preconditions checked again, as at start.
 */
function onRetry(d: Draft, names: string[], all: boolean): Reply {
  if (!isTerminalRun(d.state.status)) return { kind: "manual", ok: false, reason: `the run is ${d.state.status}` };
  const again = new Set(names);
  // Instances of fan-out steps are not reset here: a fan-out step that runs again expands again.
  const extra = extraSteps(d.ctx.dag).map((s) => s.name);
  // The DAG's preconditions and init ran for the run; only a retry of everything runs them again,
  // and a retry of some steps runs init again when it had failed (the steps need what it prepares).
  const initAgain = all || (d.ctx.dag.handlerOn?.init !== undefined && !initLetsStepsRun(d));
  const reset = [
    ...names,
    ...extra.filter((n) => (all || n !== DAG_PRECONDITIONS_STEP) && (initAgain || n !== INIT_STEP)),
  ];
  for (const name of reset) {
    const s = d.step(name);
    d.state.steps[name] = {
      ...newStep(name),
      attempt: s.attempt,
      dispatchSeq: s.dispatchSeq,
      doneTokens: s.doneTokens,
      ...(s.subRuns && { subRuns: s.subRuns }),
    };
  }
  Object.assign(d.state, {
    status: "running",
    stopRequested: false,
    timedOut: undefined,
    rejected: undefined,
    preconditionUnmet: undefined,
    handlers: undefined,
    finishedAt: undefined,
  });
  d.effects.push({ type: "runStatus", status: "running" });
  d.log(`retry: running ${all ? "every step" : names.join(", ")} again`);
  const { timeoutSec } = d.ctx.dag;
  if (timeoutSec) d.effects.push({ type: "setTimer", key: timerKey.runTimeout, at: d.now + timeoutSec * 1000 });
  if (all) {
    if (d.ctx.stepsByName.has(DAG_PRECONDITIONS_STEP)) dispatch(d, DAG_PRECONDITIONS_STEP);
    else if (d.ctx.dag.handlerOn?.init) dispatch(d, INIT_STEP);
    else dispatchRoots(d);
    return { kind: "manual", ok: true };
  }
  const from = d.ctx.dag.steps.filter((def) => again.has(def.name) && !def.depends.some((n) => again.has(n)));
  if (initAgain) {
    d.state.retryFrom = from.map((def) => def.name);
    dispatch(d, INIT_STEP);
  } else for (const def of from) startWhenReady(d, def.name);
  return { kind: "manual", ok: true };
}

/** PATCH .../status: a step of a finished run gets `status`; the run's status is derived again. */
function onSetStatus(d: Draft, name: string, status: StepStatus): Reply {
  if (!isTerminalRun(d.state.status)) return { kind: "manual", ok: false, reason: `the run is ${d.state.status}` };
  if (!d.ctx.dag.steps.some((s) => s.name === name)) {
    return { kind: "manual", ok: false, reason: `${name} is not one of the DAG's steps` };
  }
  d.update(name, { status, error: status === "succeeded" ? undefined : `status set to ${status} by hand` });
  d.log(`step ${name}: status set to ${status} by hand`);
  d.state.rejected = Object.values(d.state.steps).some((s) => s.status === "rejected") || undefined;
  const runStatus = deriveRunStatus(d.ctx, d.state);
  if (runStatus !== d.state.status) {
    d.log(`run ${runStatus} (was ${d.state.status})`);
    d.state.status = runStatus;
    d.effects.push({ type: "runStatus", status: runStatus });
  }
  return { kind: "manual", ok: true };
}

/** Dispatches a step whose dependencies are all done, or skips/aborts it as Dagu does. */
function startWhenReady(d: Draft, name: string): void {
  const deps = d.def(name).depends.map((n) => ({ def: d.def(n), s: d.step(n) }));
  if (!deps.every((x) => isTerminalStep(x.s.status))) return;
  const blocker = deps.find((x) => !letsDependentsRun(x.def, x.s));
  if (!blocker) dispatch(d, name);
  else if (blocker.s.status === "skipped")
    finishStep(d, name, "skipped", `upstream step ${blocker.def.name} was skipped`);
  else finishStep(d, name, "aborted", `upstream step ${blocker.def.name} ${blocker.s.status}`);
}

/** The machine's working copy and moves, as src/run/fanout.ts sees them. */
function fanoutHost(d: Draft): FanoutHost {
  return {
    get ctx() {
      return d.ctx;
    },
    state: d.state,
    now: d.now,
    step: (n) => d.step(n),
    def: (n) => d.def(n),
    update: (n, patch) => d.update(n, patch),
    log: (m) => d.log(m),
    dispatch: (n) => dispatch(d, n),
    finish: (n, status, error) => finishStep(d, n, status, error),
    addedInstances: () => {
      d.ctx = createContext(d.ctx.dag, d.ctx.leaseTtlMs, { params: d.ctx.params, state: d.state });
    },
    newStep,
  };
}

const isActive = (s: RunStatus): boolean => s === "running" || s === "waiting";

/**
 * After every event: the dependents of steps that finished either run, or are skipped/aborted
 * as Dagu does (an upstream failure aborts, an upstream skip skips), transitively; then, when
 * every step is done, the run's own status is derived.
 */
function settle(d: Draft): void {
  advance(d);
  showWaiting(d);
}

/** The run shows `waiting` while some step waits for approval and nothing else is under way. */
function showWaiting(d: Draft): void {
  if (!isActive(d.state.status)) return;
  const steps = Object.values(d.state.steps);
  const waiting = steps.some((s) => s.status === "waiting");
  // A fan-out step is running only through its instances, which count for themselves.
  const busy = steps.some(
    (s) => (s.queued || s.pending || s.status === "running" || s.status === "retrying") && !awaitsInstances(d.ctx, s),
  );
  const status: RunStatus = waiting && !busy ? "waiting" : "running";
  if (status === d.state.status) return;
  d.state.status = status;
  d.effects.push({ type: "runStatus", status });
}

function advance(d: Draft): void {
  // A queued run that is stopped (dequeued) finishes here too, as aborted.
  if (!isActive(d.state.status) && d.state.status !== "queued") return;
  for (let i = 0; i < d.finished.length && !d.state.stopRequested; i++) {
    for (const name of d.ctx.dependents.get(d.finished[i] as string) ?? []) {
      const s = d.step(name);
      // readyAt: it was made ready once already (a retry resets it).
      if (s.status !== "not_started" || s.queued || s.pending || s.readyAt !== undefined) continue;
      startWhenReady(d, name);
    }
  }
  fillSlots(d);
  for (const s of Object.values(d.state.steps)) if (!isTerminalStep(s.status) && !isHandler(d, s.name)) return;
  if (!d.state.handlers) {
    const status = deriveRunStatus(d.ctx, d.state);
    const queue = d.state.preconditionUnmet === undefined ? handlerQueue(d.ctx.dag, status) : [];
    d.state.handlers = { status, queue };
    if (queue.length) d.log(`steps done (${status}); running ${queue.join(", ")}`);
  }
  for (;;) {
    const h: { status: RunStatus; queue: string[] } = d.state.handlers;
    const current = h.queue[0];
    if (current === undefined) break;
    const s = d.step(current);
    if (s.status === "not_started" && !s.queued && !s.pending && s.readyAt === undefined) {
      dispatch(d, current, true);
      return;
    }
    if (!isTerminalStep(s.status)) return;
    // A failed handler fails the run; a stopped one ends the handlers, and the run is aborted.
    let status: RunStatus = h.status;
    if (s.status === "aborted") status = "aborted";
    else if (s.status === "failed" && !continueCovers(d.def(current), s)) status = "failed";
    d.state.handlers = { status, queue: s.status === "aborted" ? [] : h.queue.slice(1) };
  }
  finishRun(d, d.state.timedOut ? "failed" : d.state.handlers.status);
}

/** Handlers that did not run stay not_started. */
function finishRun(d: Draft, status: RunStatus): void {
  d.state.status = status;
  d.state.finishedAt = d.now;
  d.effects.push({ type: "runStatus", status });
  if (d.ctx.dag.timeoutSec) d.effects.push({ type: "clearTimer", key: timerKey.runTimeout });
  if (d.ctx.dag.delaySec) d.effects.push({ type: "clearTimer", key: timerKey.runDelay });
  d.log(`run ${status}`);
}

/** Dagu's rules, for a run whose steps are all done. */
export function deriveRunStatus(ctx: MachineContext, state: RunState): RunStatus {
  if (state.preconditionUnmet !== undefined) return "aborted";
  if (state.rejected) return "rejected";
  if (state.timedOut) return "failed";
  const steps = ctx.dag.steps.flatMap((def) => state.steps[def.name] ?? []);
  const allSucceeded = steps.every((s) => s.status === "succeeded" || s.status === "skipped");
  if (state.stopRequested && !allSucceeded) return "aborted";
  let hardFailure = false;
  let softFailure = false;
  let success = false;
  for (const s of steps) {
    const def = ctx.stepsByName.get(s.name);
    if (!def) continue;
    if (s.status === "succeeded") success = true;
    else if (s.status === "partially_succeeded") {
      // A call step whose sub-DAG run partially succeeded, or a fan-out step some of whose
      // instances failed under continueOn.
      success = true;
      softFailure = true;
    } else if (s.status === "aborted") hardFailure = true;
    else if (s.status === "failed") {
      if (letsDependentsRun(def, s)) softFailure = true;
      else hardFailure = true;
    }
  }
  if (hardFailure) return "failed";
  if (softFailure) return success ? "partially_succeeded" : "failed";
  return "succeeded";
}
