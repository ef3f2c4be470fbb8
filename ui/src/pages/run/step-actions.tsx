// What a user can do to one step: approve or reject it while it waits, and on a finished run
// retry from it (with its dependents or alone) or set its status.
import { useState } from "react";
import { api, seg } from "../../api/client";
import type { RunDetails, RunNode } from "../../api/types";
import { ConfirmAction } from "./confirm-action";

/** The statuses a step can be set to on a finished run (the API's codes). */
const SETTABLE = [
  { code: 4, label: "succeeded" },
  { code: 2, label: "failed" },
  { code: 3, label: "aborted" },
  { code: 5, label: "skipped" },
] as const;

export function StepActions(props: {
  details: RunDetails;
  node: RunNode;
  /** Where the run's actions go (the run itself, also for a sub-DAG run). */
  actionPath: string;
  /** Where the run's REST reads go (for a sub-DAG run, through its parent). */
  restPath: string;
  finished: boolean;
  isHandler: boolean;
  onDone: () => void;
}) {
  const { node, details, finished } = props;
  const step = seg(node.step.name);
  const waiting = node.statusLabel === "waiting";
  const manual = finished && !props.isHandler;
  const [reason, setReason] = useState("");
  const [dependents, setDependents] = useState(true);
  const [status, setStatus] = useState<number>(4);
  const reasonField = (
    <label>
      Reason (optional)
      <input value={reason} onChange={(e) => setReason(e.target.value)} />
    </label>
  );
  const decide = (verb: "approve" | "reject") => () =>
    api.post(`${props.actionPath}/steps/${step}/${verb}`, reason.trim() ? { reason: reason.trim() } : {});
  return (
    <fieldset className="row plain step-actions" aria-label={`actions on ${node.step.name}`}>
      <ConfirmAction
        label="Approve"
        available={waiting}
        message={`Run step ${node.step.name} now?`}
        run={decide("approve")}
        onDone={props.onDone}
      >
        {reasonField}
      </ConfirmAction>
      <ConfirmAction
        label="Reject"
        available={waiting}
        danger
        message={`Reject step ${node.step.name}? The run stops and ends rejected.`}
        run={decide("reject")}
        onDone={props.onDone}
      >
        {reasonField}
      </ConfirmAction>
      <ConfirmAction
        label="Retry from here"
        available={manual}
        message={`Run step ${node.step.name} again, in this run.`}
        run={() =>
          api.post(`${props.actionPath}/retry`, {
            dagRunId: details.dagRunId,
            stepName: node.step.name,
            dependents,
          })
        }
        onDone={props.onDone}
      >
        <label className="check">
          <input type="checkbox" checked={dependents} onChange={(e) => setDependents(e.target.checked)} />
          with the steps that depend on it
        </label>
      </ConfirmAction>
      <ConfirmAction
        label="Set status"
        available={manual}
        message={`Set the status of ${node.step.name}; the run's status is derived again.`}
        run={() => api.patch(`${props.restPath}/steps/${step}/status`, { status })}
        onDone={props.onDone}
      >
        <label>
          New status
          <select value={status} onChange={(e) => setStatus(Number(e.target.value))}>
            {SETTABLE.map((s) => (
              <option key={s.code} value={s.code}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </ConfirmAction>
    </fieldset>
  );
}
