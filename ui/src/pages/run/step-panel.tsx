// The selected step beside the table: its status and error, its sub-DAG runs, what can be done to
// it, and its log.
import { Link } from "@tanstack/react-router";
import type { RunLive } from "../../api/live";
import type { RunDetails } from "../../api/types";
import { StatusBadge } from "../../components/status-badge";
import { LogView } from "./log-view";
import type { ListedNode } from "./nodes";
import { StepActions } from "./step-actions";

export function StepPanel(props: {
  live: RunLive;
  details: RunDetails;
  listed: ListedNode;
  /** The run in the URL: sub-DAG runs are reached below it. */
  root: { name: string; runId: string };
  restPath: string;
  actionPath: string;
  finished: boolean;
  stream: "stdout" | "stderr";
  attempt?: number;
  onLog: (v: { stream?: "stdout" | "stderr"; attempt?: number }) => void;
  onClose: () => void;
}) {
  const { node, handler } = props.listed;
  return (
    <aside className="step-panel card" aria-label={`step ${node.step.name}`}>
      <header>
        <h2>{node.step.name}</h2>
        <StatusBadge status={node.statusLabel} />
        <span className="spacer" />
        <button type="button" onClick={props.onClose} aria-label="close the step's panel">
          ✕
        </button>
      </header>
      {node.step.description && <p className="muted small">{node.step.description}</p>}
      {node.attempt > 0 && (
        <ul className="muted small step-facts" aria-label="attempt">
          <li>attempt {node.attempt}</li>
          {/* After the step ends too: its stdout and stderr files are on that runner's host. */}
          {node.runnerId && (
            <li title="the runner that ran the step">
              runner <span className="mono">{node.runnerId}</span>
            </li>
          )}
          {node.exitCode !== undefined && <li>exit code {node.exitCode}</li>}
        </ul>
      )}
      {node.error && (
        <p className="error-text small" role="note">
          {node.error}
        </p>
      )}
      {node.subRuns && node.subRuns.length > 0 && (
        <nav aria-label="sub-DAG runs" className="small">
          Sub-DAG run{node.subRuns.length > 1 ? "s" : ""} of {node.step.call ?? "this step"}:{" "}
          {node.subRuns.map((s, i) => (
            <span key={s.dagRunId}>
              {i > 0 && ", "}
              <Link
                to="/dags/$name/runs/$runId/sub/$subId"
                params={{ name: props.root.name, runId: props.root.runId, subId: s.dagRunId }}
                search={{}}
                title={s.params === undefined ? undefined : `params: ${s.params}`}
              >
                {s.dagRunId}
              </Link>
            </span>
          ))}
        </nav>
      )}
      <StepActions
        details={props.details}
        node={node}
        actionPath={props.actionPath}
        restPath={props.restPath}
        finished={props.finished}
        isHandler={handler !== undefined}
        onDone={() => props.live.refresh()}
      />
      <LogView
        live={props.live}
        restPath={props.restPath}
        node={node}
        stream={props.stream}
        attempt={props.attempt}
        onChange={props.onLog}
      />
    </aside>
  );
}
