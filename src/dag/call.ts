// `call` (in Dagu's older files also `run`, written with `params`) and `params` of a step: the step runs another DAG as a
// sub-DAG run of its own (src/run/sub-runs.ts). PURE.
import type { Node } from "yaml";
import type { Issues } from "./issues";
import type { StepDef } from "./types";
import { readParams } from "./values";

export const DAG_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
export const DAG_NAME_MAX = 40;

/** Nesting deeper than this fails the calling step: a DAG that calls itself without end. */
export const MAX_CALL_DEPTH = 8;

type Get = (key: string) => Node | undefined;

/**
 * Reads `call` (or, with `legacyRun`, the older `run`) and `params` into `def.call`, and checks
 * what a call step cannot have. A `run` beside `call` is current Dagu's shell form: refused below
 * as a command.
 */
export function readCall(get: Get, def: StepDef, field: string, issues: Issues, legacyRun: boolean): void {
  const f = (key: string) => `${field}.${key}`;
  const callNode = get("call");
  const runNode = legacyRun ? get("run") : undefined;
  const node = callNode ?? runNode;
  const key = callNode ? "call" : "run";
  const paramsNode = get("params");
  if (!node) {
    if (paramsNode) issues.at(paramsNode, f("params"), "params are for a step that calls a DAG (call: <dag name>)");
    return;
  }
  const name = issues.string(node, f(key));
  if (name === undefined) return;
  if (!DAG_NAME_PATTERN.test(name) || name.length > DAG_NAME_MAX) {
    issues.at(node, f(key), `${key} must name a DAG (letters, digits, _ and -), not "${name}"`);
    return;
  }
  def.call = { dag: name, params: paramsNode ? readParams(paramsNode, f("params"), issues) : [] };
  if (def.command !== undefined || def.script !== undefined) {
    issues.at(node, f(key), `step "${def.name}" calls DAG ${name}; it cannot also have a command or a script`);
  }
  // Both are decided by a runner's shell, which a call step never gets.
  for (const k of ["precondition", "preconditions", "repeatPolicy"]) {
    const n = get(k);
    if (n) issues.at(n, f(k), `${k} on a step that calls a DAG is not supported yet`);
  }
}
