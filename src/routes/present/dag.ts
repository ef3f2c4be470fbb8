// A DAG definition in the contract's shapes: DAG (in lists), DAGDetails and Step. The run's own
// shapes (summaries, nodes) are in run-summary.ts and run-details.ts.
import type { Condition, DagDef, RepeatPolicy, StepDef } from "../../dag/types";

export function presentStep(s: StepDef) {
  return {
    name: s.name,
    ...(s.id !== undefined && { id: s.id }),
    ...(s.description !== undefined && { description: s.description }),
    ...(s.dir !== undefined && { dir: s.dir }),
    ...(s.command !== undefined && { command: s.command, cmdWithArgs: s.command }),
    ...(s.script !== undefined && { script: s.script }),
    ...(s.output !== undefined && { output: s.output }),
    ...(s.timeoutSec !== undefined && { timeoutSec: s.timeoutSec }),
    depends: s.depends,
    ...(s.preconditions?.length && { preconditions: s.preconditions.map(presentCondition) }),
    ...(s.repeatPolicy && { repeatPolicy: presentRepeat(s.repeatPolicy) }),
    ...(s.call && { call: s.call.dag, params: presentParams(s.call.params) }),
    ...(s.fanout && { parallel: { items: s.fanout.items, maxConcurrent: s.fanout.maxConcurrent } }),
  };
}

/** Params as one line of Dagu's `KEY=value` words. */
export function presentParams(params: DagDef["params"]): string {
  return params.map((p) => (p.name ? `${p.name}=${quote(p.value)}` : quote(p.value))).join(" ");
}

export function presentCondition(c: Condition) {
  return {
    condition: c.condition,
    ...(c.expected !== undefined && { expected: c.expected }),
    ...(c.negate && { negate: true }),
  };
}

function presentRepeat(p: RepeatPolicy) {
  return {
    repeat: p.mode,
    interval: p.intervalSec,
    ...(p.limit !== undefined && { limit: p.limit }),
    ...(p.backoff !== undefined && { backoff: p.backoff }),
    ...(p.maxIntervalSec !== undefined && { maxIntervalSec: p.maxIntervalSec }),
    ...(p.condition && { condition: presentCondition(p.condition) }),
    ...(p.exitCode && { exitCode: p.exitCode }),
  };
}

export function paramNames(dag: DagDef): string[] {
  return dag.params.map((p, i) => p.name ?? `$${i + 1}`);
}

const quote = (v: string) => (/^[^\s"'\\]*$/.test(v) && v !== "" ? v : JSON.stringify(v));

export function presentDag(dag: DagDef) {
  return {
    name: dag.name,
    ...(dag.description !== undefined && { description: dag.description }),
    ...(dag.group !== undefined && { group: dag.group }),
    tags: dag.tags,
    params: paramNames(dag),
    defaultParams: presentParams(dag.params),
    schedule: (dag.schedule ?? []).map((expression) => ({ expression })),
    ...(dag.queue !== undefined && { queue: dag.queue }),
    ...(dag.maxActiveRuns !== undefined && { maxActiveRuns: dag.maxActiveRuns }),
    ...(dag.runConfig && { runConfig: dag.runConfig }),
  };
}

export function presentDagDetails(dag: DagDef) {
  return {
    ...presentDag(dag),
    env: dag.env.map(([k, v]) => `${k}=${v}`),
    ...(dag.histRetentionDays !== undefined && { histRetentionDays: dag.histRetentionDays }),
    steps: dag.steps.map(presentStep),
    ...(dag.handlerOn && {
      handlerOn: Object.fromEntries(Object.entries(dag.handlerOn).map(([k, s]) => [k, presentStep(s)])),
    }),
    ...(dag.delaySec !== undefined && { delay: dag.delaySec }),
    ...(dag.preconditions?.length && { preconditions: dag.preconditions.map(presentCondition) }),
    ...(dag.maxActiveSteps !== undefined && { maxActiveSteps: dag.maxActiveSteps }),
  };
}
