// Checks over the whole step graph: duplicate names and ids, unknown dependencies, cycles.
import type { Node } from "yaml";
import type { Issues } from "./issues";
import type { LocatedDag } from "./parse";

export function checkGraph({ def, stepNodes }: LocatedDag, issues: Issues): void {
  const byName = new Map<string, number>();
  const ids = new Map<string, number>();
  def.steps.forEach((s, i) => {
    const field = `steps[${i}]`;
    if (byName.has(s.name)) issues.at(stepNodes[i], `${field}.name`, `duplicate step name "${s.name}"`);
    else byName.set(s.name, i);
    if (s.id !== undefined) {
      if (ids.has(s.id)) issues.at(stepNodes[i], `${field}.id`, `duplicate step id "${s.id}"`);
      else ids.set(s.id, i);
    }
  });
  def.steps.forEach((s, i) => {
    for (const d of s.depends) {
      if (!byName.has(d)) {
        issues.at(dependsNode(stepNodes[i]), `steps[${i}].depends`, `step "${s.name}" depends on unknown step "${d}"`);
      }
    }
  });
  for (const cycle of findCycles(
    def.steps.map((s) => ({ name: s.name, depends: s.depends.filter((d) => byName.has(d)) })),
  )) {
    const first = byName.get(cycle[0] as string) ?? 0;
    issues.at(
      stepNodes[first],
      `steps[${first}].depends`,
      `dependency cycle: ${[...cycle, cycle[0]].join(" -> ")} (each depends on the next)`,
    );
  }
}

function dependsNode(step: Node | undefined): Node | undefined {
  const inner =
    step && "get" in step
      ? ((step as { get(k: string, keep: boolean): unknown }).get("depends", true) as Node)
      : undefined;
  return inner ?? step;
}

/** Cycles found by depth-first search, each as a list where every step depends on the next. */
export function findCycles(steps: Array<{ name: string; depends: string[] }>): string[][] {
  const deps = new Map(steps.map((s) => [s.name, s.depends]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (name: string) => {
    state.set(name, "visiting");
    stack.push(name);
    for (const d of deps.get(name) ?? []) {
      const st = state.get(d);
      if (st === "visiting") cycles.push(stack.slice(stack.indexOf(d)));
      else if (st === undefined) visit(d);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const s of steps) if (!state.has(s.name)) visit(s.name);
  return cycles;
}
