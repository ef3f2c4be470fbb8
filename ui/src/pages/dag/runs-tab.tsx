// The runs tab: this DAG's runs, newest first, each linking to its page.
import { useState } from "react";
import type { RunSummary } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { type Column, ListTable } from "../../components/list-table";
import { runIdColumn, runLink, runTimeColumns, statusColumn } from "../../components/run-cells";
import { useRunsOfDag } from "./queries";

const PAGE = 50;
// The API lists a DAG's runs newest first up to a limit (no offset): "more" raises the limit.
const MAX = 500;

// The DAG is the page's: a run's card is titled by its id.
const COLUMNS: Array<Column<RunSummary>> = [
  { ...runIdColumn, card: "title" },
  statusColumn,
  ...runTimeColumns,
  { head: "Params", className: "mono name", cell: (r) => r.params || <span className="muted">-</span> },
];

export function RunsTab({ dagName }: { dagName: string }) {
  const [limit, setLimit] = useState(PAGE);
  const runs = useRunsOfDag(dagName, limit);
  if (runs.error) return <ErrorBox error={runs.error} />;
  if (!runs.data) return <p className="muted">Loading…</p>;
  const list = runs.data.dagRuns;
  return (
    <>
      <ListTable
        label={`runs of ${dagName}`}
        columns={COLUMNS}
        rows={list}
        rowKey={(r) => r.dagRunId}
        rowLink={runLink}
        empty="No runs yet."
      />
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
