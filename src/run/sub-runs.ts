// Sub-DAG runs: a call step's child run is a run of its own (its own RunObject and D1 row),
// linked to the run that called it. The parent's RunObject starts it (startSubRun, idempotent:
// the child's id is fixed by the parent), the child reports its end to the parent when it
// finishes (with its D1 summary, retried with it), and a stop of the parent stops it.
import { MAX_CALL_DEPTH } from "../dag/call";
import { buildExecSpec, expandVars } from "../dag/exec-spec";
import { instanceItem } from "../dag/parallel";
import { applyParams, parseOverride, type ResolvedParams } from "../dag/params";
import { expandJsonPaths } from "../dag/refs";
import type { DagDef, StepDef } from "../dag/types";
import { shellQuote } from "../dag/words";
import { db, getDag, getRun, insertRun } from "../db/queries";
import type { Env } from "../env";
import { unwrap } from "../errors";
import { runStub } from "../stubs";
import { DAG_ENV_STEP, type RunState } from "./engine";
import type { ParentRef, RunInit } from "./object/rpc";

export type SubRunStart = { ok: true } | { ok: false; error: string };

/**
 * Creates and starts the sub-DAG run `childRunId` of the call step `step`; a second call for the
 * same id starts nothing new. `ok: false`: it cannot run (the called DAG is missing, ...), and
 * the step fails with that error. Throws when D1 or the child's object is unreachable: the
 * caller tries again.
 */
export async function startSubRun(
  env: Env,
  parent: { init: RunInit; state: RunState },
  step: StepDef,
  childRunId: string,
): Promise<SubRunStart> {
  const call = step.call;
  if (!call) return { ok: false, error: `step ${step.name} calls no DAG` };
  const depth = (parent.init.parent?.depth ?? 0) + 1;
  if (depth > MAX_CALL_DEPTH) {
    return { ok: false, error: `sub-DAG runs nest deeper than ${MAX_CALL_DEPTH}: does ${call.dag} call itself?` };
  }
  const d = db(env.DB);
  const existing = await getRun(d, childRunId);
  if (existing && existing.parentRunId !== parent.init.runId) {
    return { ok: false, error: `the run id ${childRunId} is taken by a run that is not this step's` };
  }
  const found = await calledDag(env, parent.init.dag, call.dag);
  if (!found.ok) return found;
  const item = step.call?.params.length ? undefined : instanceItem(step);
  const given = item === undefined ? callParams(parent, step) : parseOverride(item);
  if (!given.ok)
    return { ok: false, error: `the parallel item ${item} cannot be the params of ${call.dag}: ${given.message}` };
  const resolved = applyParams(found.dag.params, given);
  // A parallel item passed whole is shown as it was given, as Dagu shows it.
  const paramsText =
    item ??
    [...given.named.map(([k, v]) => shellQuote(`${k}=${v}`)), ...given.positional.map((v) => shellQuote(v))].join(" ");
  const ref: ParentRef = {
    runId: parent.init.runId,
    dagName: parent.init.dag.name,
    step: step.name,
    rootRunId: parent.init.parent?.rootRunId ?? parent.init.runId,
    rootDagName: parent.init.parent?.rootDagName ?? parent.init.dag.name,
    depth,
  };
  if (!existing) {
    const now = Date.now();
    await insertRun(d, {
      runId: childRunId,
      dagName: found.dag.name,
      queue: null,
      status: "queued",
      params: paramsText,
      queuedAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
      parentRunId: ref.runId,
      parentDagName: ref.dagName,
      rootRunId: ref.rootRunId,
      rootDagName: ref.rootDagName,
    });
  }
  // Sub-DAG runs are not admitted through queues: the run that called them already was.
  unwrap(
    await runStub(env, childRunId).start({
      runId: childRunId,
      dag: found.dag,
      params: resolved,
      paramsText,
      parent: ref,
    }),
  );
  return { ok: true };
}

/**
 * The DAG a call names: one of the file's local DAGs, else a stored DAG. A local DAG gets the
 * file's other local DAGs, so that they can call each other.
 */
async function calledDag(
  env: Env,
  caller: DagDef,
  name: string,
): Promise<{ ok: true; dag: DagDef } | { ok: false; error: string }> {
  const local = caller.localDags?.find((l) => l.name === name);
  if (local) return { ok: true, dag: { ...local, localDags: caller.localDags } };
  const row = await getDag(db(env.DB), name);
  if (!row) return { ok: false, error: `the called DAG ${name} does not exist` };
  if (!row.parsed) return { ok: false, error: `the called DAG ${name} has errors: ${row.errors}` };
  return { ok: true, dag: JSON.parse(row.parsed) as DagDef };
}

/**
 * The call's params with `${NAME}` and `$NAME` resolved the way a step's env is (run variables,
 * params, outputs, the DAG's and the step's env, ITEM of a parallel instance) and `${VAR.path}`
 * into outputs. The DAG's backtick values are passed as the run evaluated them; what only a
 * shell could still expand (a step's own backticks) is passed as written.
 */
function callParams(parent: { init: RunInit; state: RunState }, step: StepDef): { ok: true } & ResolvedParams {
  const spec = buildExecSpec(parent.init.dag, step, {
    runId: parent.init.runId,
    params: parent.init.params,
    outputs: parent.state.outputs,
    maxOutputBytes: 0,
    // The caller's backtick env values, once its run evaluated them, are passed as they are.
    evaluatedEnv: parent.state.steps[DAG_ENV_STEP]?.envValues,
  });
  const env = new Map(Object.entries(spec.env));
  const expand = (v: string) => expandVars(expandJsonPaths(v, parent.state.outputs), (n) => env.get(n));
  const named: Array<[string, string]> = [];
  const positional: string[] = [];
  for (const p of step.call?.params ?? []) {
    if (p.name === null) positional.push(expand(p.value));
    else named.push([p.name, expand(p.value)]);
  }
  return { ok: true, named, positional };
}
