// A start that names a context and/or a parameter set. The rules, in one place:
// - Params: the start's own params > the parameter set's > the DAG's defaults. The set's params
//   join the start's as if the caller had written them first, so they are data (never run by a
//   shell) and the run's `params` text shows everything it was given.
// - Context variables go under the DAG's env: they come first in it, so the DAG's own env (and a
//   step's) wins over a variable of the same name and may use one (`${REGION}`). Like the DAG's
//   env, they override a param of the same name.
// - A start that names no context (or set) uses the DAG's `context` (or `parameterSet`) key: so
//   a scheduled run, which names none, gets them.
// - The resolved values are written into the run (its definition and params), so a retry or a
//   reschedule uses what the run started with even if the context or set changed since; the
//   names and values are also kept in D1 (run_inputs), for the run's details.
import { eq } from "drizzle-orm";
import { resolveParams } from "../dag/params";
import type { DagDef } from "../dag/types";
import { shellQuote } from "../dag/words";
import { db } from "../db/queries";
import { type RunInputsRow, runInputs } from "../db/schema";
import { AppError } from "../errors";
import { resolveContext } from "./contexts";
import { parameterSetParams } from "./parameter-sets";

export interface StartInputs {
  /** A context's name: its variables go under the DAG's env. */
  context?: string;
  /** A parameter set's name: its params go under the start's own. */
  parameterSet?: string;
}

export interface AppliedInputs {
  dag: DagDef;
  params: string | undefined;
  /** What to record with the run; undefined when the start named neither. */
  record?: Omit<RunInputsRow, "runId">;
}

export async function applyStartInputs(
  d1: D1Database,
  dag: DagDef,
  given: StartInputs & { params?: string },
): Promise<AppliedInputs> {
  // The DAG's own `context` and `parameterSet` keys stand in for a start that names none.
  const opts = {
    ...given,
    context: given.context ?? dag.context,
    parameterSet: given.parameterSet ?? dag.parameterSet,
  };
  if (opts.context === undefined && opts.parameterSet === undefined) return { dag, params: opts.params };
  if (opts.parameterSet !== undefined && dag.runConfig?.disableParamEdit) {
    throw new AppError(
      "bad_request",
      400,
      `DAG ${dag.name} does not take params at start (runConfig.disableParamEdit), nor a parameter set`,
      { field: "parameterSet" },
    );
  }
  const variables = opts.context === undefined ? [] : await resolveContext(d1, opts.context, "context");
  const setParams =
    opts.parameterSet === undefined ? [] : await parameterSetParams(d1, opts.parameterSet, "parameterSet");
  return {
    dag: withContext(dag, variables),
    params: withParameterSet(setParams, opts.params),
    record: {
      context: opts.context ?? null,
      parameterSet: opts.parameterSet ?? null,
      variables: JSON.stringify(Object.fromEntries(variables)),
      params: JSON.stringify(Object.fromEntries(setParams)),
    },
  };
}

/** PURE. The DAG with the context's variables first in its env. */
export function withContext(dag: DagDef, variables: Array<[string, string]>): DagDef {
  return variables.length ? { ...dag, env: [...variables, ...dag.env] } : dag;
}

/**
 * PURE. The params text of a start given a parameter set: the set's named params, then the
 * start's own (whose names win), in Dagu's `KEY=value` form. Unreadable params are left as
 * they are, for the start to refuse in its own words.
 */
export function withParameterSet(setParams: Array<[string, string]>, params: string | undefined): string | undefined {
  if (!setParams.length) return params;
  const given = resolveParams([], params);
  if (!given.ok) return params;
  const named = new Map(setParams);
  for (const [k, v] of given.named) named.set(k, v);
  return [...[...named].map(([k, v]) => shellQuote(`${k}=${v}`)), ...given.positional.map(shellQuote)].join(" ");
}

export async function recordRunInputs(d1: D1Database, runId: string, record: Omit<RunInputsRow, "runId">) {
  await db(d1)
    .insert(runInputs)
    .values({ runId, ...record })
    .run();
}

export async function forgetRunInputs(d1: D1Database, runIds: string[]) {
  for (const runId of runIds) await db(d1).delete(runInputs).where(eq(runInputs.runId, runId)).run();
}

export async function runInputsOf(d1: D1Database, runId: string) {
  return db(d1).select().from(runInputs).where(eq(runInputs.runId, runId)).get();
}
