// Creating a run: the D1 index row first (it decides whether the run id is free), then the
// RunObject. If the object cannot be started the row is removed again: nothing half-written.
import { uuidv7 } from "uuidv7";
import { resolveParams } from "../dag/params";
import type { DagDef } from "../dag/types";
import { db, deleteRun, insertRun, listRuns } from "../db/queries";
import type { Env } from "../env";
import { AppError, type Outcome, unwrap } from "../errors";
import type { RunSnapshot } from "./run-object";

const RUN_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

export interface StartOptions {
  params?: string;
  dagRunId?: string;
  singleton?: boolean;
}

export function runStub(env: Env, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(runId));
}

export async function startRun(env: Env, dag: DagDef, opts: StartOptions): Promise<string> {
  if (dag.runConfig?.disableParamEdit && opts.params?.trim()) {
    throw new AppError(
      "bad_request",
      400,
      `DAG ${dag.name} does not take params at start (runConfig.disableParamEdit); it runs with its defaults`,
      { field: "params" },
    );
  }
  if (dag.runConfig?.disableRunIdEdit && opts.dagRunId !== undefined) {
    throw new AppError(
      "bad_request",
      400,
      `DAG ${dag.name} does not take a dagRunId at start (runConfig.disableRunIdEdit); one is generated`,
      { field: "dagRunId" },
    );
  }
  const params = resolveParams(dag.params, opts.params);
  if (!params.ok) throw new AppError("bad_request", 400, `params: ${params.message}`, { field: "params" });
  const runId = opts.dagRunId ?? uuidv7();
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new AppError("bad_request", 400, "dagRunId must match ^[a-zA-Z0-9_-]+$ (at most 64 characters)", {
      field: "dagRunId",
    });
  }
  const d = db(env.DB);
  if (opts.singleton) {
    const active = await listRuns(d, { dagName: dag.name, statuses: ["running", "queued"], limit: 1 });
    if (active.length) {
      throw new AppError("already_exists", 409, `DAG ${dag.name} is already running (run ${active[0]?.runId})`);
    }
  }
  const now = Date.now();
  const inserted = await insertRun(d, {
    runId,
    dagName: dag.name,
    status: "queued",
    params: opts.params ?? "",
    queuedAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  });
  if (!inserted) throw new AppError("already_exists", 409, `a DAG-run with id ${runId} already exists`);
  try {
    unwrap(
      await runStub(env, runId).start({
        runId,
        dag,
        params: { named: params.named, positional: params.positional },
        paramsText: opts.params ?? "",
      }),
    );
  } catch (err) {
    await deleteRun(d, runId);
    throw err;
  }
  return runId;
}

/** A run's snapshot. (RPC's type mapping widens tuples such as EnvList; the data is unchanged.) */
export async function runSnapshot(env: Env, runId: string): Promise<RunSnapshot> {
  return unwrap((await runStub(env, runId).snapshot()) as unknown as Outcome<RunSnapshot>);
}
