// A step's log: the live tail (pushed, or polled when the socket is down), the stdout/stderr
// switch, the attempts, notes when lines were dropped, and the whole log as a file.
import { useState } from "react";
import { isTerminalStep } from "../../../../src/status";
import { seg } from "../../api/client";
import { type RunLive, useLiveLog } from "../../api/live";
import type { RunNode } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { downloadLog, fetchWholeLog } from "./download";
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
  // The whole log, loaded on demand into the same viewer; the live tail resumes when it is closed.
  const [whole, setWhole] = useState<{ text: string; droppedBytes: number } | null>(null);
  const [loading, setLoading] = useState(false);
  const attempts = Array.from({ length: Math.max(node.attempt, 1) }, (_, i) => i + 1);
  const shown = log.attempt ?? attempt ?? node.attempt;
  const lineCount = splitLines(log.text).length;
  const logPath = `${props.restPath}/steps/${seg(stepName)}/log`;
  const logQuery = { stream, attempt: shown || undefined };
  const download = () => {
    setError(null);
    downloadLog(logPath, `${stepName}.${shown}.${stream}.log`, logQuery).catch(setError);
  };
  const loadWhole = () => {
    setError(null);
    setLoading(true);
    fetchWholeLog(logPath, logQuery)
      .then((slice) => setWhole({ text: slice.content, droppedBytes: slice.droppedBytes ?? 0 }), setError)
      .finally(() => setLoading(false));
  };
  const change = (v: { stream?: "stdout" | "stderr"; attempt?: number }) => {
    setWhole(null);
    props.onChange(v);
  };
  const droppedBytes = whole ? whole.droppedBytes : log.droppedBytes;
  return (
    <section className="log-view" aria-label={`log of ${stepName}`}>
      <div className="log-toolbar">
        <fieldset className="segmented" aria-label="stream">
          {(["stdout", "stderr"] as const).map((s) => (
            <button key={s} type="button" aria-pressed={s === stream} onClick={() => change({ stream: s })}>
              {s}
            </button>
          ))}
        </fieldset>
        <label>
          Attempt
          <select
            value={attempt ?? ""}
            onChange={(e) => change({ attempt: e.target.value ? Number(e.target.value) : undefined })}
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
        {whole ? (
          <button type="button" onClick={() => setWhole(null)}>
            Back to the live tail
          </button>
        ) : (
          <button type="button" onClick={loadWhole} disabled={loading}>
            Show the whole log
          </button>
        )}
        <button type="button" onClick={download}>
          Download
        </button>
      </div>
      <ErrorBox error={error} />
      {droppedBytes > 0 && (
        <p className="log-note" role="note">
          The server dropped the first {droppedBytes.toLocaleString()} bytes of this log (it keeps the most recent
          part).
        </p>
      )}
      {whole ? (
        <p className="log-note" role="note">
          The whole log as it was when loaded; it does not follow new lines.
        </p>
      ) : (
        (log.trimmed || lineCount >= LOG_TAIL) && (
          <p className="log-note" role="note">
            Earlier lines are not shown here: the live tail keeps the last lines. “Show the whole log” loads them all.
          </p>
        )
      )}
      <LogLines
        text={whole ? whole.text : log.text}
        label={`${stream} of ${stepName}, attempt ${shown || 1}`}
        empty={emptyLogText(node, shown, stream, whole !== null || log.loaded)}
      />
    </section>
  );
}

/**
 * What an empty log says. While the attempt shown can still write, "No output yet."; once it has
 * ended (the step finished, waits to retry, or an earlier attempt is shown) an empty log is all
 * there is, and says so, but only once the log has arrived: before that it is not known.
 */
function emptyLogText(node: RunNode, attempt: number, stream: string, loaded: boolean): string {
  const ended =
    isTerminalStep(node.statusLabel) || node.statusLabel === "retrying" || (attempt > 0 && attempt < node.attempt);
  if (!ended) return "No output yet.";
  if (!loaded) return "Loading the log…";
  // A step skipped, or stopped before a runner took it, never ran: it had nothing to write.
  if (node.attempt === 0) return "The step did not run.";
  return `The step wrote nothing to ${stream}.`;
}
