// Creating a run: the D1 index row first (it decides whether the run id is free), then the
// RunObject. If the object cannot be started the row is removed again: nothing half-written.
// A run bound by a limit (`maxActiveRuns`, a queue) is created queued and started by admission
// (src/queue/queue-object.ts); any other run starts at once.
import { uuidv7 } from "uuidv7";
import { resolveParams } from "../dag/params";
import type { DagDef } from "../dag/types";
import { db, deleteRun, insertRun, listRuns } from "../db/queries";
import type { Env } from "../env";
import { AppError, type Outcome, unwrap } from "../errors";
import { applyStartInputs, forgetRunInputs, recordRunInputs, type StartInputs } from "../inputs/start-inputs";
import { MAX_PARAMS_BYTES, showBytes, utf8Bytes } from "../limits";
import { admission, runStub } from "../stubs";
import { timingMark } from "../timing";
import type { RunSnapshot } from "./object/rpc";

const RUN_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
/** The run id that paths resolve to the DAG's latest run. */
export const LATEST = "latest";

export interface StartOptions extends StartInputs {
  params?: string;
  dagRunId?: string;
  singleton?: boolean;
  /** Overrides the DAG's queue. */
  queue?: string;
  /**
   * Through the enqueue endpoints: a DAG without `maxActiveRuns` and without a queue gets
   * Dagu's default of 1 (its own DAG-based queue); `start` leaves such a DAG unbounded.
   */
  enqueue?: boolean;
}

export interface Started {
  runId: string;
  /** Whether the run is waiting for admission rather than running. */
  queued: boolean;
}

export async function startRun(env: Env, given: DagDef, startOpts: StartOptions): Promise<Started> {
  // A named context and parameter set become part of the run's definition and params here
  // (src/inputs/start-inputs.ts), so everything below sees what the run will run with.
  const inputs = await applyStartInputs(env.DB, given, startOpts);
  const dag = inputs.dag;
  const opts = { ...startOpts, params: inputs.params };
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
  const paramsBytes = utf8Bytes(opts.params ?? "");
  if (paramsBytes > MAX_PARAMS_BYTES) {
    throw new AppError(
      "bad_request",
      400,
      `params is ${paramsBytes} bytes, over the limit of ${showBytes(MAX_PARAMS_BYTES)} for params`,
      { field: "params" },
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
  // The paths read `latest` as "the DAG's latest run": a run of that id could never be reached.
  if (runId === LATEST) {
    throw new AppError("bad_request", 400, `dagRunId cannot be "${LATEST}": it names a DAG's latest run in paths`, {
      field: "dagRunId",
    });
  }
  const d = db(env.DB);
  if (opts.singleton) {
    const active = await listRuns(d, { dagName: dag.name, statuses: ["running", "waiting", "queued"], limit: 1 });
    if (active.length) {
      throw new AppError("already_exists", 409, `DAG ${dag.name} is already running (run ${active[0]?.runId})`);
    }
  }
  const queue = opts.queue ?? dag.queue ?? null;
  const maxActiveRuns = dag.maxActiveRuns ?? (opts.enqueue && queue === null ? 1 : null);
  const limited = queue !== null || maxActiveRuns !== null;
  const now = Date.now();
  const inserted = await insertRun(d, {
    runId,
    dagName: dag.name,
    queue,
    status: "queued",
    params: opts.params ?? "",
    queuedAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  });
  if (!inserted) throw new AppError("already_exists", 409, `a DAG-run with id ${runId} already exists`);
  timingMark(env, "inserted", runId);
  const init = {
    runId,
    dag,
    params: { named: params.named, positional: params.positional },
    paramsText: opts.params ?? "",
  };
  try {
    if (inputs.record) await recordRunInputs(env.DB, runId, inputs.record);
    if (!limited) {
      unwrap(await runStub(env, runId).start(init));
      timingMark(env, "stubStarted", runId);
      return { runId, queued: false };
    }
    unwrap(await runStub(env, runId).prepare(init, "queued"));
  } catch (err) {
    await deleteRun(d, runId);
    if (inputs.record) await forgetRunInputs(env.DB, [runId]);
    throw err;
  }
  try {
    const { admitted } = await admission(env).submit({ runId, dagName: dag.name, queue, maxActiveRuns });
    return { runId, queued: !admitted };
  } catch (err) {
    // Not in line, it would wait forever: it ends aborted instead, and the caller hears why.
    await runStub(env, runId)
      .stop()
      .catch((e: unknown) => console.error(`run ${runId}: could not abort after admission failed`, e));
    throw err;
  }
}

/**
 * A run's snapshot. (RPC's type mapping widens tuples such as EnvList; the data is unchanged.)
 * `dagName`, from the run's index row, wins over the name stored with the run: a renamed DAG's
 * history shows under its new name.
 */
export async function runSnapshot(env: Env, runId: string, dagName?: string): Promise<RunSnapshot> {
  const snap = unwrap((await runStub(env, runId).snapshot()) as unknown as Outcome<RunSnapshot>);
  return dagName && dagName !== snap.dag.name ? { ...snap, dag: { ...snap.dag, name: dagName } } : snap;
}
