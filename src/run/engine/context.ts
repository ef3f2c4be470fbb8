// The run's context (the DAG and what is derived from it once) and a run's first state. PURE.
import { hasShellEnv } from "../../dag/exec-spec";
import type { ResolvedParams } from "../../dag/params";
import { type DagDef, HANDLER_NAMES, type HandlerKind, type StepDef } from "../../dag/types";
import type { RunStatus } from "../../status";
import { instanceDefs } from "./fanout-items";
import type { MachineContext, RunState, StepState } from "./types";

/**
 * The step that checks the DAG's preconditions on a runner (they may need a shell) before any
 * step of the DAG is dispatched. It is not one of the DAG's nodes.
 */
export const DAG_PRECONDITIONS_STEP = "(dag preconditions)";

export const HANDLER_ORDER: HandlerKind[] = ["init", "success", "failure", "cancel", "exit"];
export const INIT_STEP = HANDLER_NAMES.init;

/**
 * The step that evaluates the DAG's backtick env values (and param defaults) on a runner, once
 * for the run, before anything else: every later step gets the values it sent back. It is not
 * one of the DAG's nodes.
 */
export const DAG_ENV_STEP = "(dag env)";

/**
 * Steps the run has besides the DAG's own: the env step, the precondition check, then the
 * handlers. A run stored before the env step existed (`state` without it) goes on without it,
 * so that the index a lease id gives each step stays what it was.
 */
export function extraSteps(dag: DagDef, state?: RunState): StepDef[] {
  const handlers = HANDLER_ORDER.flatMap((k) => dag.handlerOn?.[k] ?? []);
  const envStep = hasShellEnv(dag) && (!state || state.steps[DAG_ENV_STEP] !== undefined);
  return [
    ...(envStep ? [checkStep(DAG_ENV_STEP)] : []),
    ...(dag.preconditions?.length ? [{ ...checkStep(DAG_PRECONDITIONS_STEP), preconditions: dag.preconditions }] : []),
    ...handlers,
  ];
}

/** A step of dagflare's that runs nothing of its own (`true`, which any runner can run). */
function checkStep(name: string): StepDef {
  return {
    name,
    command: "true",
    depends: [],
    env: [],
    retryPolicy: { limit: 0, intervalSec: 0 },
    continueOn: { failure: false, skipped: false, exitCode: [] },
  };
}

/** Dagu's order: the handler of the outcome (a partial success counts as a success), then exit. */
export function handlerQueue(dag: DagDef, status: RunStatus): string[] {
  const first: HandlerKind =
    status === "failed" || status === "rejected" ? "failure" : status === "aborted" ? "cancel" : "success";
  return ([first, "exit"] as HandlerKind[]).filter((k) => dag.handlerOn?.[k]).map((k) => HANDLER_NAMES[k]);
}

/** `run.state`: the instances it holds are part of the context (a fan-out adds a new context). */
export function createContext(
  dag: DagDef,
  leaseTtlMs: number,
  run: { params?: ResolvedParams; state?: RunState } = {},
): MachineContext {
  const allSteps = [...dag.steps, ...extraSteps(dag, run.state), ...instanceDefs(dag, run.state)];
  const stepsByName = new Map(allSteps.map((s) => [s.name, s]));
  const indexOf = new Map(allSteps.map((s, i) => [s.name, i]));
  const dependents = new Map<string, string[]>(allSteps.map((s) => [s.name, []]));
  for (const s of dag.steps) for (const d of s.depends) dependents.get(d)?.push(s.name);
  // A step of the DAG may carry a handler's name; then it is the DAG's step, not a handler.
  const own = new Set(dag.steps.map((s) => s.name));
  const handlerNames = new Set(
    dag.handlerOn ? Object.values(HANDLER_NAMES).filter((n) => stepsByName.has(n) && !own.has(n)) : [],
  );
  return { dag, leaseTtlMs, allSteps, stepsByName, indexOf, dependents, handlerNames, params: run.params };
}

/** Step names in the run's step order (a lease's index), whatever order they were written in. */
export function inStepOrder(ctx: MachineContext, names: Iterable<string>): string[] {
  const at = (name: string) => ctx.indexOf.get(name) ?? Number.MAX_SAFE_INTEGER;
  return [...names].sort((a, b) => at(a) - at(b));
}

export function initialState(runId: string, dag: DagDef, now: number, status: RunStatus = "not_started"): RunState {
  const steps: Record<string, StepState> = {};
  for (const s of [...dag.steps, ...extraSteps(dag)]) steps[s.name] = newStep(s.name);
  return { runId, dagName: dag.name, status, stopRequested: false, createdAt: now, outputs: {}, steps };
}

export function newStep(name: string): StepState {
  return {
    name,
    phase: { kind: "idle" },
    status: "not_started",
    attempt: 0,
    retryCount: 0,
    lostCount: 0,
    dispatchSeq: 0,
    doneTokens: [],
  };
}
