// Which nodes of a run's details a change of some steps touches, found without looking at the
// other steps: a live patch of a 2,000-step run in which one step changed presents one node.
import { parseInstanceName } from "../dag/parallel";
import type { DagDef } from "../dag/types";
import type { RunState } from "../run/engine";

/** Step name -> its index in the DAG's steps, built once per DAG definition. */
const indexes = new WeakMap<DagDef["steps"], Map<string, number>>();

function indexOf(dag: DagDef): Map<string, number> {
  let index = indexes.get(dag.steps);
  if (!index) {
    index = new Map(dag.steps.map((s, i) => [s.name, i]));
    indexes.set(dag.steps, index);
  }
  return index;
}

/**
 * Indices in `dag.steps`, in order, of the nodes that show a step of `changed`: the step's own
 * node, and for an instance of a parallel step's current expansion, that step's node (which
 * lists its instances). Handlers and dagflare's own steps are not among the DAG's nodes.
 */
export function touchedNodes(dag: DagDef, state: RunState, changed: ReadonlySet<string>): number[] {
  const at = indexOf(dag);
  const touched = new Set<number>();
  for (const name of changed) {
    const own = at.get(name);
    if (own !== undefined) touched.add(own);
    const instance = parseInstanceName(name);
    const parent = instance && at.get(instance.parent);
    if (instance && parent !== undefined && dag.steps[parent]?.fanout) {
      const count = state.steps[instance.parent]?.instances ?? 0;
      if (instance.n >= 1 && instance.n <= count) touched.add(parent);
    }
  }
  return [...touched].sort((a, b) => a - b);
}
