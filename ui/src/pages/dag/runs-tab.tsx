// The runs tab: this DAG's runs, newest first, each linking to its page.
import { useState } from "react";
import { ErrorBox } from "../../components/error-box";
import { RunIdCells, RunTimeCells } from "../../components/run-cells";
import { useRunsOfDag } from "./queries";

const PAGE = 50;
// The API lists a DAG's runs newest first up to a limit (no offset): "more" raises the limit.
const MAX = 500;

export function RunsTab({ dagName }: { dagName: string }) {
  const [limit, setLimit] = useState(PAGE);
  const runs = useRunsOfDag(dagName, limit);
  if (runs.error) return <ErrorBox error={runs.error} />;
  if (!runs.data) return <p className="muted">Loading…</p>;
  const list = runs.data.dagRuns;
  if (list.length === 0) return <p className="muted">No runs yet.</p>;
  return (
    <>
      <div className="table-scroll">
        <table className="list" aria-label={`runs of ${dagName}`}>
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Params</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.dagRunId}>
                <RunIdCells run={r} />
                <RunTimeCells run={r} />
                <td className="mono">{r.params || <span className="muted">-</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.length === limit && limit < MAX && (
        <div className="pager">
          <button type="button" onClick={() => setLimit((l) => Math.min(MAX, l + PAGE))}>
            Show older runs
          </button>
        </div>
      )}
    </>
  );
}
