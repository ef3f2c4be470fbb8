// The cells every list of runs shows the same way (the runs page, a DAG's runs tab, the queues).
import { Link } from "@tanstack/react-router";
import type { RunSummary } from "../api/types";
import { durationOf, formatDuration, formatTime } from "../lib/format";
import { StatusBadge } from "./status-badge";

type Run = Pick<RunSummary, "name" | "dagRunId" | "statusLabel" | "queuedAt" | "startedAt" | "finishedAt">;

/** The run's id, linking to its page, and its status. */
export function RunIdCells({ run }: { run: Run }) {
  return (
    <>
      <td>
        <Link to="/dags/$name/runs/$runId" params={{ name: run.name, runId: run.dagRunId }} className="mono">
          {run.dagRunId}
        </Link>
      </td>
      <td>
        <StatusBadge status={run.statusLabel} />
      </td>
    </>
  );
}

/** When the run started (or, until it does, was queued) and how long it has run. */
export function RunTimeCells({ run }: { run: Run }) {
  return (
    <>
      <td>{formatTime(run.startedAt || run.queuedAt)}</td>
      <td>{formatDuration(durationOf(run.startedAt, run.finishedAt))}</td>
    </>
  );
}
