// What `${ID.stdout}`, `${ID.stderr}` and `${ID.exitCode}` read of a run's steps (Dagu's step
// references; src/dag/refs.ts resolves them). PURE.
import type { StepRefValues } from "../dag/refs";
import type { DagDef } from "../dag/types";
import type { RunState } from "./engine/types";

/**
 * Each step with an id: the files of its last attempt on the host of the runner that ran it,
 * and its exit code. A step that has not run reads as exit code 0 (as in Dagu), one that ended
 * without an exit code (killed by a signal, could not start) as -1; its files are unknown until
 * it ran, and a reference to them is left as written.
 */
export function stepRefValues(dag: DagDef, state: RunState): Record<string, StepRefValues> {
  const values: Record<string, StepRefValues> = {};
  for (const def of dag.steps) {
    if (def.id === undefined) continue;
    const s = state.steps[def.name];
    const v: StepRefValues = { exitCode: s?.exitCode === undefined ? "0" : String(s.exitCode ?? -1) };
    if (s?.stdoutPath !== undefined) v.stdout = s.stdoutPath;
    if (s?.stderrPath !== undefined) v.stderr = s.stderrPath;
    values[def.id] = v;
  }
  return values;
}
