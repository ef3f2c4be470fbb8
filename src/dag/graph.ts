// Checks over the whole step graph: duplicate names and ids, unknown dependencies, cycles.
// PURE. As in Dagu, a `depends` entry may name a step by its id; it is rewritten to the name,
// so that after parsing `depends` holds names only.
import { isMap, type Node } from "yaml";
import type { Issues } from "./issues";
import type { StepEntry } from "./step";
import { child } from "./yaml-nodes";

export function checkGraph(entries: StepEntry[], issues: Issues): void {
  const byName = new Map<string, number>();
  const byId = new Map<string, number>();
  for (const [i, e] of entries.entries()) {
    const { name, id } = e.def;
    if (byName.has(name)) issues.at(part(e, "name"), `${e.field}.name`, `duplicate step name "${name}"`);
    else byName.set(name, i);
    if (id === undefined) continue;
    if (byId.has(id)) issues.at(part(e, "id"), `${e.field}.id`, `duplicate step id "${id}"`);
    else byId.set(id, i);
  }
  for (const [i, e] of entries.entries()) {
    const owner = e.def.id === undefined ? undefined : byName.get(e.def.id);
    if (owner !== undefined && owner !== i) {
      issues.at(part(e, "id"), `${e.field}.id`, `step id "${e.def.id}" is the name of another step`);
    }
  }

  for (const e of entries) {
    const resolved: string[] = [];
    e.def.depends.forEach((d, j) => {
      const at = byName.get(d) ?? byId.get(d);
      const name = at === undefined ? undefined : entries[at]?.def.name;
      if (name === undefined) {
        issues.at(
          e.dependsNodes[j] ?? e.node,
          `${e.field}.depends`,
          `step "${e.def.name}" depends on unknown step "${d}"`,
        );
      } else if (!resolved.includes(name)) resolved.push(name);
    });
    e.def.depends = resolved;
  }

  const edges = entries.map((e) => e.def.depends.map((d) => byName.get(d) ?? -1).filter((at) => at >= 0));
  for (const cycle of findCycles(edges)) {
    // Shown in the order the steps would run, from the one written first.
    const run = [...cycle].reverse();
    const from = run.indexOf(Math.min(...run));
    const order = [...run.slice(from), ...run.slice(0, from)];
    const first = entries[order[0] ?? 0];
    if (!first) continue;
    const names = [...order, order[0] ?? 0].map((at) => entries[at]?.def.name ?? "?");
    issues.at(part(first, "depends"), `${first.field}.depends`, `dependency cycle: ${names.join(" -> ")}`);
  }
}

/** The node of one key of a step (for the line), else the step itself. */
function part(e: StepEntry, key: string): Node {
  return (isMap(e.node) ? child(e.node, key) : undefined) ?? e.node;
}

/**
 * The cycles of a graph given as adjacency lists (`edges[i]` = what i depends on), each as the
 * path where every position depends on the next and the last on the first. Iterative, so a
 * long chain cannot overflow the stack.
 */
export function findCycles(edges: number[][]): number[][] {
  const state = edges.map(() => "new" as "new" | "open" | "done");
  const cycles: number[][] = [];
  for (let root = 0; root < edges.length; root++) {
    if (state[root] !== "new") continue;
    const path = [root];
    const nextEdge = [0];
    state[root] = "open";
    while (path.length > 0) {
      const top = path.length - 1;
      const at = path[top] ?? 0;
      const k = nextEdge[top] ?? 0;
      nextEdge[top] = k + 1;
      const to = edges[at]?.[k];
      if (to === undefined) {
        state[at] = "done";
        path.pop();
        nextEdge.pop();
      } else if (state[to] === "open") {
        cycles.push(path.slice(path.indexOf(to)));
      } else if (state[to] === "new") {
        state[to] = "open";
        path.push(to);
        nextEdge.push(0);
      }
    }
  }
  return cycles;
}
