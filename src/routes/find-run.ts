// Finding the run a /dag-runs path names: the run's index row in D1, checked against the DAG name
// in the path (`latest` resolved), and a sub-DAG run below it. Every route under a run starts here.
import type { Context } from "hono";
import { db, getRun, latestRun } from "../db/queries";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { AppError } from "../errors";
import { LATEST } from "../run/start-run";
import { DAG_NAME } from "./dags";

/** The run's index row, checked against the DAG name in the path; `latest` is resolved. */
export async function findRun(env: Env, name: string, runId: string): Promise<DagRunRow> {
  if (!DAG_NAME.test(name)) throw new AppError("bad_request", 400, `invalid DAG name "${name}"`, { field: "name" });
  const d = db(env.DB);
  const row = runId === LATEST ? await latestRun(d, name) : await getRun(d, runId);
  if (!row || row.dagName !== name) {
    throw new AppError(
      "not_found",
      404,
      runId === LATEST ? `DAG ${name} has no runs` : `DAG-run ${name}/${runId} not found`,
    );
  }
  return row;
}

/** A sub-DAG run below the run in the path: one it called, or any in its chain when it is the top. */
export async function findSubRun(c: Context<{ Bindings: Env }>): Promise<DagRunRow> {
  const row = await findRun(c.env, c.req.param("name") ?? "", c.req.param("dagRunId") ?? "");
  const subId = c.req.param("subDAGRunId") ?? "";
  const sub = await getRun(db(c.env.DB), subId);
  if (!sub || (sub.parentRunId !== row.runId && sub.rootRunId !== row.runId)) {
    throw new AppError("not_found", 404, `sub DAG-run ${subId} of ${row.dagName}/${row.runId} not found`);
  }
  return sub;
}
