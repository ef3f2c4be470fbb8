// The run's header: DAG (linked), run id, status, times, params, why it waits, the way back to the
// calling run for a sub-DAG run, the run's own log, and the run's actions (stop, retry).
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { api } from "../../api/client";
import type { Connection, RunLive } from "../../api/live";
import { useCan } from "../../api/me";
import type { RunDetails } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { StatusBadge } from "../../components/status-badge";
import { durationOf, formatDuration, formatTime } from "../../lib/format";
import { ConfirmAction } from "./confirm-action";
import { downloadLog } from "./download";
import { useNow } from "./use-now";

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: "connecting…",
  live: "live",
  polling: "polling",
  reconnecting: "reconnecting…",
};

export function RunHeader(props: {
  live: RunLive;
  details: RunDetails;
  connection: Connection;
  /** The run in the URL (for a sub-DAG run, the top run it is reached through). */
  root: { name: string; runId: string };
  isSub: boolean;
  restPath: string;
  actionPath: string;
  finished: boolean;
}) {
  const { details: d, finished } = props;
  const now = useNow(!finished);
  const [error, setError] = useState<unknown>(null);
  const canOperate = useCan("operator");
  const [retryMode, setRetryMode] = useState<"all" | "failed">("all");
  const hasFailed = d.nodes.some((n) => n.statusLabel === "failed");
  const waitingSteps = d.nodes.filter((n) => n.statusLabel === "waiting").map((n) => n.step.name);
  const parentIsRoot = d.parentDAGRunId === props.root.runId;
  return (
    <>
      <div className="run-header">
        <h1>
          <Link to="/dags/$name" params={{ name: d.name }} search={{}}>
            {d.name}
          </Link>
          <span className="mono">{d.dagRunId}</span>
          <StatusBadge status={d.statusLabel} />
        </h1>
        <span className="connection" data-state={props.connection} role="status" aria-label="updates">
          {CONNECTION_TEXT[props.connection]}
        </span>
        <span className="spacer" />
        <fieldset className="row plain" aria-label="run actions">
          <button
            type="button"
            onClick={() => {
              setError(null);
              downloadLog(`${props.restPath}/log`, `${d.name}.${d.dagRunId}.log`).catch(setError);
            }}
          >
            Run log
          </button>
          <ConfirmAction
            label="Stop"
            available={!finished && canOperate}
            danger
            message="Stop this run? Running steps are killed on their runners; waiting ones are aborted."
            run={() => api.post(`${props.actionPath}/stop`)}
            onDone={() => props.live.refresh()}
          />
          <ConfirmAction
            label="Retry"
            available={finished && !props.isSub && canOperate}
            message="Run this run again in place, with the same id, definition and params."
            run={() =>
              api.post(`${props.actionPath}/retry`, {
                dagRunId: d.dagRunId,
                ...(retryMode === "failed" && { failedOnly: true }),
              })
            }
            onDone={() => props.live.refresh()}
          >
            <label className="check">
              <input
                type="radio"
                name="retry-mode"
                checked={retryMode === "all"}
                onChange={() => setRetryMode("all")}
              />
              every step
            </label>
            <label className="check">
              <input
                type="radio"
                name="retry-mode"
                checked={retryMode === "failed"}
                disabled={!hasFailed}
                onChange={() => setRetryMode("failed")}
              />
              failed steps only (and what depends on them)
            </label>
          </ConfirmAction>
        </fieldset>
      </div>
      <ErrorBox error={error} />
      {props.isSub && (
        <p className="small">
          Sub-DAG run of{" "}
          {parentIsRoot ? (
            <Link to="/dags/$name/runs/$runId" params={props.root} search={{}}>
              {props.root.name} / {props.root.runId}
            </Link>
          ) : (
            <Link
              to="/dags/$name/runs/$runId/sub/$subId"
              params={{ ...props.root, subId: d.parentDAGRunId ?? "" }}
              search={{}}
            >
              {d.parentDAGRunName ?? "parent"} / {d.parentDAGRunId}
            </Link>
          )}
        </p>
      )}
      <dl className="run-facts">
        <div>
          <dt>Queued</dt>
          <dd>{formatTime(d.queuedAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(d.startedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatTime(d.finishedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(durationOf(d.startedAt, finished ? d.finishedAt : "-", Math.max(now, Date.now())))}</dd>
        </div>
        <div>
          <dt>Params</dt>
          <dd className="mono">{d.params || "-"}</dd>
        </div>
      </dl>
      {(d.waitingFor || (d.statusLabel === "waiting" && waitingSteps.length > 0)) && (
        <p className="run-note" role="note">
          {d.waitingFor ? `Queued: ${d.waitingFor}` : `Waiting for approval: ${waitingSteps.join(", ")}`}
        </p>
      )}
    </>
  );
}
