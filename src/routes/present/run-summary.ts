// A run in a list (the contract's DAGRunSummary) and the pieces every shape of a run shares: times,
// the log's path, a sub-DAG run's place in its chain. Also the contract's Pagination of a list.
import type { DagRunRow } from "../../db/schema";
import type { ParentRef } from "../../run/object/rpc";
import { type RunStatus, runStatusCode } from "../../status";

/**
 * A time, or "" when unset: what Dagu's server sends for an unset time of a run, and of a step
 * of a run (its `FormatTime` of the zero time). Only the steps of a DAG that never ran show "-"
 * (Dagu's initial status), see `presentNoRun`.
 */
export const iso = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString() : "");

export const runPath = (name: string, runId: string) => `/api/v2/dag-runs/${name}/${runId}`;

export function presentSummaryFromRow(r: DagRunRow) {
  const chain =
    r.parentRunId && r.parentDagName && r.rootRunId && r.rootDagName
      ? { runId: r.parentRunId, dagName: r.parentDagName, rootRunId: r.rootRunId, rootDagName: r.rootDagName }
      : undefined;
  return {
    ...summary(r.dagName, r.runId, r.status as RunStatus, r.queuedAt, r.startedAt, r.finishedAt, r.params),
    ...(chain && presentChain(chain)),
  };
}

/** A sub-DAG run's place: the contract's root and parent fields. */
export function presentChain(p: Pick<ParentRef, "runId" | "dagName" | "rootRunId" | "rootDagName">) {
  return {
    rootDAGRunName: p.rootDagName,
    rootDAGRunId: p.rootRunId,
    parentDAGRunName: p.dagName,
    parentDAGRunId: p.runId,
  };
}

export function summary(
  name: string,
  runId: string,
  status: RunStatus,
  queuedAt: number | null,
  startedAt: number | null | undefined,
  finishedAt: number | null | undefined,
  params: string,
) {
  return {
    rootDAGRunName: name,
    rootDAGRunId: runId,
    dagRunId: runId,
    name,
    status: runStatusCode(status),
    statusLabel: status,
    // Dagu leaves out a queuedAt or params it does not have.
    ...(queuedAt && { queuedAt: iso(queuedAt) }),
    startedAt: iso(startedAt),
    finishedAt: iso(finishedAt),
    log: `${runPath(name, runId)}/log`,
    ...(params !== "" && { params }),
  };
}

/** dagflare's addition to a DAG in a list: one of its recent runs, for a strip of statuses. */
export function presentRecentRun(r: DagRunRow) {
  const status = r.status as RunStatus;
  return { dagRunId: r.runId, status: runStatusCode(status), statusLabel: status, startedAt: iso(r.startedAt) };
}

/** The contract's Pagination for a page of `perPage` out of `total` records. */
export function pagination(total: number, page: number, perPage: number) {
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  return {
    totalRecords: total,
    currentPage: page,
    totalPages,
    nextPage: page < totalPages ? page + 1 : page,
    prevPage: page > 1 ? page - 1 : 1,
  };
}
