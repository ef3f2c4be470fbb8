// The columns every list of runs shows the same way (the runs page, a DAG's runs tab, the
// queues), and where a click on a run's row goes.
import { Link, type NavigateOptions } from "@tanstack/react-router";
import type { RunSummary } from "../api/types";
import { durationOf, formatDuration, formatTime } from "../lib/format";
import type { Column } from "./list-table";
import { StatusBadge } from "./status-badge";

type Run = Pick<RunSummary, "name" | "dagRunId" | "statusLabel" | "queuedAt" | "startedAt" | "finishedAt">;

/** The run's page. */
export const runLink = (run: Run): NavigateOptions => ({
  to: "/dags/$name/runs/$runId",
  params: { name: run.name, runId: run.dagRunId },
});

/** The run's DAG, linking to its page: a run's card is titled by it. */
export const dagColumn: Column<Run> = {
  head: "DAG",
  card: "title",
  className: "name",
  cell: (run) => (
    <Link to="/dags/$name" params={{ name: run.name }}>
      {run.name}
    </Link>
  ),
};

/** The run's id, linking to its page. */
export const runIdColumn: Column<Run> = {
  head: "Run",
  className: "name",
  cell: (run) => (
    <Link to="/dags/$name/runs/$runId" params={{ name: run.name, runId: run.dagRunId }} className="mono">
      {run.dagRunId}
    </Link>
  ),
};

export const statusColumn: Column<Run> = {
  head: "Status",
  card: "badge",
  cell: (run) => <StatusBadge status={run.statusLabel} />,
};

/** When the run started (or, until it does, was queued) and how long it has run. */
export const runTimeColumns: Array<Column<Run>> = [
  { head: "Started", cell: (run) => formatTime(run.startedAt || run.queuedAt) },
  { head: "Duration", cell: (run) => formatDuration(durationOf(run.startedAt, run.finishedAt)) },
];
