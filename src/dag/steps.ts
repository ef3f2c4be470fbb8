// The `steps` of a DAG file -> StepDef[], with the implicit edges of a chain made explicit.
// PURE. Forms (Dagu's schema): a list of steps, where an item may also be a command string or a
// nested list (a parallel group); or a map of name -> step. One step is read in step.ts.
import { isMap, isSeq, type Node } from "yaml";
import type { Issues } from "./issues";
import { readStep, type StepEntry } from "./step";
import type { DagDef } from "./types";
import { keyOf } from "./yaml-nodes";

export function readSteps(node: Node, type: DagDef["type"], issues: Issues): StepEntry[] | undefined {
  const entries: StepEntry[] = [];
  /** Positions of the previous sequential item: one step, or all members of a parallel group. */
  let previous: number[] = [];
  const add = (item: unknown, field: string, nameFromKey?: string): number | undefined => {
    const entry = readStep(item as Node, field, issues, nameFromKey);
    if (!entry) return undefined;
    entry.follows = previous;
    entries.push(entry);
    return entries.length - 1;
  };

  if (isMap(node)) {
    for (const pair of node.items) {
      const at = add(pair.value ?? pair.key, `steps.${keyOf(pair)}`, keyOf(pair));
      previous = at === undefined ? previous : [at];
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (!isSeq(item)) {
        const at = add(item, `steps[${i}]`);
        previous = at === undefined ? previous : [at];
        return;
      }
      const group: number[] = [];
      item.items.forEach((member, j) => {
        if (isSeq(member)) issues.at(member, `steps[${i}][${j}]`, "parallel groups cannot be nested");
        else {
          const at = add(member, `steps[${i}][${j}]`);
          if (at !== undefined) group.push(at);
        }
      });
      if (group.length) previous = group;
    });
  } else {
    issues.at(node, "steps", "steps must be a list of steps or a map of name -> step");
    return undefined;
  }

  nameUnnamed(entries);
  if (type === "chain") for (const e of entries) followPrevious(e, entries);
  return entries;
}

/**
 * A chain step follows the step (or parallel group) before it. As in Dagu at the contract's
 * commit, that edge is added to the step's own `depends`, not replaced by them; only an empty
 * `depends: []` opts out. An edge already written (by the step's name or id) is not added twice.
 */
function followPrevious(e: StepEntry, entries: StepEntry[]): void {
  if (e.explicitDepends && e.def.depends.length === 0) return;
  for (const at of e.follows) {
    const prev = entries[at]?.def;
    if (!prev || e.def.depends.includes(prev.name) || (prev.id !== undefined && e.def.depends.includes(prev.id)))
      continue;
    e.def.depends.push(prev.name);
  }
}

/**
 * A step without a name is named by its id, as current Dagu does (its files give steps an id
 * and no name); else `step_<position>` (from 1, in file order), moving on to the next free
 * number on a clash.
 */
function nameUnnamed(entries: StepEntry[]): void {
  const taken = new Set(entries.filter((e) => e.explicitName).map((e) => e.def.name));
  entries.forEach((e, i) => {
    if (e.explicitName) return;
    if (e.def.id !== undefined && !taken.has(e.def.id)) {
      e.def.name = e.def.id;
      taken.add(e.def.id);
      return;
    }
    let n = i + 1;
    while (taken.has(`step_${n}`)) n++;
    e.def.name = `step_${n}`;
    taken.add(e.def.name);
  });
}
