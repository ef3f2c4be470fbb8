// A run's state in the contract's DAGRunDetails: the summary's fields, a Node per step (a
// parallel step's node with its instances), the lifecycle handlers' nodes and the DAG's
// preconditions; and the details of a DAG that never ran, which GET /dags/{fileName} shows.
import { type DagDef, HANDLER_NAMES, type HandlerKind, type StepDef } from "../../dag/types";
import {
  currentInstances,
  DAG_PRECONDITIONS_STEP,
  extraSteps,
  instanceDef,
  leaseOf,
  type RunState,
  type StepState,
} from "../../run/engine";
import type { RunSnapshot } from "../../run/object/rpc";
import { stepStatusCode } from "../../status";
import { touchedNodes } from "../touched-nodes";
import { presentCondition, presentParams, presentStep } from "./dag";
import { iso, presentChain, runPath, summary } from "./run-summary";

function presentNode(
  name: string,
  runId: string,
  index: number,
  def: StepDef,
  s: StepState | undefined,
  waiting?: string,
) {
  const stepLog = `${runPath(name, runId)}/steps/${encodeURIComponent(def.name)}/log`;
  const status = s?.status ?? "not_started";
  const lease = s && leaseOf(s);
  // The runner holding the lease, or once it ended, the one that last ran the step (unknown on
  // steps stored before it was kept).
  const runnerId = lease?.runnerId ?? s?.runnerId;
  return {
    step: presentStep(def),
    stdout: stepLog,
    stderr: `${stepLog}?stream=stderr`,
    startedAt: iso(s?.startedAt),
    finishedAt: iso(s?.finishedAt),
    status: stepStatusCode(status),
    statusLabel: status,
    retryCount: s?.retryCount ?? 0,
    doneCount: s?.doneCount ?? (status === "succeeded" ? 1 : 0),
    ...(s?.error !== undefined && { error: s.error }),
    // A ready step no live runner can take says so (src/dispatch/waiting.ts).
    ...(waiting !== undefined && { error: waiting }),
    // dagflare's additions: which attempt the node is on, its exit code, and who ran it.
    attempt: s?.attempt ?? 0,
    ...(s?.exitCode !== undefined && s.exitCode !== null && { exitCode: s.exitCode }),
    ...(runnerId !== undefined && { runnerId }),
    // The lease of the current (or, once finished, the accepted) attempt, as its runner saw it.
    ...(s && s.dispatchSeq > 0 && { leaseId: `${runId}.${index}.${s.dispatchSeq}` }),
    // Epoch ms of when the step became ready and when its process ran (the benchmark's figures).
    ...(s?.readyAt !== undefined && { readyAt: s.readyAt }),
    ...(s?.processStartedAt !== undefined && { processStartedAt: s.processStartedAt }),
    ...(s?.processExitedAt !== undefined && { processExitedAt: s.processExitedAt }),
    // A call step: the sub-DAG run of each attempt (GET .../sub-dag-runs/{dagRunId}).
    ...(s?.subRuns?.length && {
      subRuns: s.subRuns.map((dagRunId) => ({ dagRunId })),
    }),
  };
}

/**
 * `waiting`: why queued steps wait, by step name (see src/dispatch/waiting.ts). `only`: present
 * only the nodes a change of these steps touches (a step of them, a parallel step one of whose
 * instances is among them, a handler among them), for a live patch that costs what changed;
 * the run's own fields are all there either way.
 */
export function presentDetails(snap: RunSnapshot, waiting?: Map<string, string>, only?: ReadonlySet<string>) {
  const { dag, state } = snap;
  return {
    ...summary(
      dag.name,
      state.runId,
      state.status,
      state.createdAt,
      state.startedAt,
      state.finishedAt,
      snap.paramsText,
    ),
    ...(snap.parent && presentChain(snap.parent)),
    nodes: stepNodes(dag, state, only).map(({ def, index, instances }): PresentedNode => {
      const node = presentNode(dag.name, state.runId, index, def, state.steps[def.name], waiting?.get(def.name));
      return def.fanout ? presentFanoutNode(dag.name, state, node, instances, waiting) : node;
    }),
    ...handlerNodes(dag, state, waiting, only),
    ...(dag.preconditions?.length && {
      preconditions: presentRunPreconditions(dag, state, waiting?.get(DAG_PRECONDITIONS_STEP)),
    }),
  };
}

/** A node of run details; a parallel step's node also lists its instances (presentFanoutNode). */
type PresentedNode = ReturnType<typeof presentNode> & {
  instances?: Array<ReturnType<typeof presentNode>>;
};

interface PlacedStep {
  def: StepDef;
  /** What a lease id counts the step as (src/run/engine/fanout.ts: instances follow every other step). */
  index: number;
}

/**
 * The DAG's steps in order, each fan-out step with the instances of its current expansion; with
 * `only`, the steps whose nodes a change of those steps touches.
 */
export function stepNodes(
  dag: DagDef,
  state: RunState,
  only?: ReadonlySet<string>,
): Array<PlacedStep & { instances: PlacedStep[] }> {
  const firstInstance = dag.steps.length + extraSteps(dag, state).length;
  const indices = only ? touchedNodes(dag, state, only) : dag.steps.map((_, index) => index);
  return indices.flatMap((index) => {
    const def = dag.steps[index];
    if (!def) return [];
    const instances = def.fanout
      ? currentInstances(state, def.name).map(({ name, position }, i) => ({
          def: instanceDef(def, i + 1, state.steps[name]?.item ?? ""),
          index: firstInstance + position,
        }))
      : [];
    return [{ def, index, instances }];
  });
}

/**
 * The defs a presentation with `only` shows (their nodes' steps and instances, the handlers
 * among them, the DAG's precondition check): whose waiting reasons it needs.
 */
export function presentedDefs(dag: DagDef, state: RunState, only: ReadonlySet<string>): StepDef[] {
  const shown = stepNodes(dag, state, only).flatMap((n) => [n.def, ...n.instances.map((i) => i.def)]);
  const extra = extraSteps(dag, state).filter((s) => s.name === DAG_PRECONDITIONS_STEP || only.has(s.name));
  return [...shown, ...extra];
}

/**
 * A parallel step as Dagu shows it: one node with its own status, and for a call step the
 * sub-DAG runs of its instances in `subRuns` (each with the params it was given). dagflare adds
 * `instances`, each instance's own node (status, attempts, runner, log), for its own views.
 */
function presentFanoutNode(
  dagName: string,
  state: RunState,
  node: ReturnType<typeof presentNode>,
  instances: PlacedStep[],
  waiting?: Map<string, string>,
) {
  const subRuns = instances.flatMap(({ def }) => {
    const s = state.steps[def.name];
    const params = s?.result?.params ?? (def.call?.params.length ? undefined : s?.item);
    return (s?.subRuns ?? []).map((dagRunId) => ({ dagRunId, ...(params !== undefined && { params }) }));
  });
  return {
    ...node,
    ...(subRuns.length && { subRuns }),
    instances: instances.map(({ def, index }) =>
      presentNode(dagName, state.runId, index, def, state.steps[def.name], waiting?.get(def.name)),
    ),
  };
}

/** The DAG's preconditions, with the outcome of their check once it ran. */
function presentRunPreconditions(dag: DagDef, state: RunState, waiting?: string) {
  const check = state.steps[DAG_PRECONDITIONS_STEP];
  return (dag.preconditions ?? []).map((c) => ({
    ...presentCondition(c),
    // The check is queued and no live runner can take it: none of them is checked yet.
    ...(waiting !== undefined && { error: waiting }),
    ...(check?.status === "succeeded" && { matched: true }),
    // The runner checks them in order and stops at the first unmet one, which it describes.
    ...(check?.status === "skipped" && state.preconditionUnmet?.startsWith(`"${c.condition}"`)
      ? { matched: false, error: state.preconditionUnmet }
      : {}),
  }));
}

/**
 * The lifecycle handlers the DAG defines, as the contract's onSuccess/onFailure/onCancel/onExit
 * nodes; with `only`, those among them.
 */
function handlerNodes(dag: DagDef, state: RunState, waiting?: Map<string, string>, only?: ReadonlySet<string>) {
  const out: Record<string, ReturnType<typeof presentNode>> = {};
  for (const [kind, name] of Object.entries(HANDLER_NAMES)) {
    if (only && !only.has(name)) continue;
    const def = dag.handlerOn?.[kind as HandlerKind];
    // A handler's lease ids count it after the DAG's steps, in the machine's order (extraSteps).
    const index = dag.steps.length + extraSteps(dag, state).findIndex((s) => s.name === name);
    if (def) out[name] = presentNode(dag.name, state.runId, index, def, state.steps[name], waiting?.get(name));
  }
  return out;
}

/**
 * The details of a run that never happened: what GET /dags/{fileName} shows before a first run,
 * as Dagu's initial status: empty run ids and log, no times, each step's times "-".
 */
export function presentNoRun(dag: DagDef) {
  const empty: RunState = {
    runId: "",
    dagName: dag.name,
    status: "not_started",
    stopRequested: false,
    createdAt: 0,
    outputs: {},
    steps: {},
  };
  const details = presentDetails({ dag, state: empty, paramsText: presentParams(dag.params) });
  const never = <T extends { startedAt: string; finishedAt: string }>(n: T): T => ({
    ...n,
    startedAt: "-",
    finishedAt: "-",
  });
  return {
    ...details,
    rootDAGRunName: "",
    rootDAGRunId: "",
    log: "",
    nodes: details.nodes.map(never),
    ...Object.fromEntries(
      Object.values(HANDLER_NAMES).flatMap((h) => {
        const node = (details as Record<string, unknown>)[h] as ReturnType<typeof presentNode> | undefined;
        return node ? [[h, never(node)]] : [];
      }),
    ),
  };
}

export function presentNoRunSummary(dag: DagDef) {
  const { nodes: _nodes, ...rest } = presentNoRun(dag);
  return rest;
}
