// A step's log: the live tail (pushed, or polled when the socket is down), the stdout/stderr
// switch, the attempts, notes when lines were dropped, and the whole log as a file.
import { useState } from "react";
import { seg } from "../../api/client";
import { type RunLive, useLiveLog } from "../../api/live";
import type { RunNode } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { downloadLog } from "./download";
import { LogLines, splitLines } from "./log-lines";

/** Lines the live view starts with (the server's most). */
export const LOG_TAIL = 10_000;

export function LogView(props: {
  live: RunLive;
  restPath: string;
  node: RunNode;
  stream: "stdout" | "stderr";
  /** The attempt picked; none follows the latest. */
  attempt?: number;
  onChange: (v: { stream?: "stdout" | "stderr"; attempt?: number }) => void;
}) {
  const { live, node, stream, attempt } = props;
  const stepName = node.step.name;
  const log = useLiveLog(live, { stepName, stream, attempt, tail: LOG_TAIL });
  const [error, setError] = useState<unknown>(null);
  const attempts = Array.from({ length: Math.max(node.attempt, 1) }, (_, i) => i + 1);
  const shown = log.attempt ?? attempt ?? node.attempt;
  const lineCount = splitLines(log.text).length;
  const download = () => {
    setError(null);
    downloadLog(`${props.restPath}/steps/${seg(stepName)}/log`, `${stepName}.${shown}.${stream}.log`, {
      stream,
      attempt: shown || undefined,
    }).catch(setError);
  };
  return (
    <section className="log-view" aria-label={`log of ${stepName}`}>
      <div className="log-toolbar">
        <fieldset className="segmented" aria-label="stream">
          {(["stdout", "stderr"] as const).map((s) => (
            <button key={s} type="button" aria-pressed={s === stream} onClick={() => props.onChange({ stream: s })}>
              {s}
            </button>
          ))}
        </fieldset>
        <label>
          Attempt
          <select
            value={attempt ?? ""}
            onChange={(e) => props.onChange({ attempt: e.target.value ? Number(e.target.value) : undefined })}
          >
            <option value="">latest{node.attempt > 0 ? ` (${node.attempt})` : ""}</option>
            {attempts.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button type="button" onClick={download}>
          Full log
        </button>
      </div>
      <ErrorBox error={error} />
      {log.droppedBytes > 0 && (
        <p className="log-note" role="note">
          The server dropped the first {log.droppedBytes.toLocaleString()} bytes of this log (it keeps the most recent
          part).
        </p>
      )}
      {(log.trimmed || lineCount >= LOG_TAIL) && (
        <p className="log-note" role="note">
          Earlier lines are not shown here; the live view keeps the last lines. Use “Full log” for the rest.
        </p>
      )}
      <LogLines text={log.text} label={`${stream} of ${stepName}, attempt ${shown || 1}`} />
    </section>
  );
}
