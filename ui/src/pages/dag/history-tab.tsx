// The history grid: runs by steps (newest run first), handlers in rows of their own. Long DAGs
// are virtualised by row, so a 2,000-step grid renders only what is on screen.
import { Link } from "@tanstack/react-router";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef } from "react";
import { HANDLER_KEYS, type RunDetails, type StepStatusLabel } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { formatTime } from "../../lib/format";
import { statusColor, statusText, stepLabelOf } from "../../lib/status";
import { useDagRunsGrid } from "./queries";
import "./history-grid.css";

interface GridRow {
  name: string;
  handler: boolean;
  /** One status per run, in the order of `runs` (newest first); undefined: not in that run. */
  cells: Array<StepStatusLabel | undefined>;
}

const ROW_PX = 28;

const HANDLER_ROWS = new Set<string>(HANDLER_KEYS);

/**
 * The grid's rows from gridData (oldest run first there): the steps, then a row per handler that
 * ran (onSuccess, onFailure...), as the server names them.
 */
export function gridRows(gridData: Array<{ name: string; history: number[] }>, runs: RunDetails[]): GridRow[] {
  return gridData.map((g) => ({
    name: g.name,
    handler: HANDLER_ROWS.has(g.name),
    cells: runs.map((_, i) => {
      const code = g.history[g.history.length - 1 - i];
      return code === undefined ? undefined : stepLabelOf(code);
    }),
  }));
}

export function HistoryTab({ fileName }: { fileName: string }) {
  const grid = useDagRunsGrid(fileName);
  const rows = useMemo(() => (grid.data ? gridRows(grid.data.gridData, grid.data.dagRuns) : []), [grid.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_PX,
    overscan: 10,
  });
  if (grid.error) return <ErrorBox error={grid.error} />;
  if (!grid.data) return <p className="muted">Loading…</p>;
  const runs = grid.data.dagRuns;
  if (runs.length === 0) return <p className="muted">No runs yet.</p>;
  const columns = `minmax(12rem, 18rem) repeat(${runs.length}, 22px)`;

  return (
    <>
      <p className="muted small">
        {runs.length === 1 ? "The last run." : `The last ${runs.length} runs, newest at the left.`}
      </p>
      <div ref={scroller} className="history-grid">
        <table aria-label="history of runs by steps" aria-rowcount={rows.length + 1}>
          <thead>
            <tr className="history-row history-head" style={{ gridTemplateColumns: columns }}>
              <th scope="col">Step</th>
              {runs.map((r) => (
                <th scope="col" key={r.dagRunId} className="history-run">
                  <Link
                    to="/dags/$name/runs/$runId"
                    params={{ name: r.name, runId: r.dagRunId }}
                    aria-label={`run ${r.dagRunId}: ${statusText(r.statusLabel)}, ${formatTime(r.startedAt)}`}
                    title={`${r.dagRunId}\n${statusText(r.statusLabel)}\n${formatTime(r.startedAt)}`}
                    className="history-run-link"
                    style={{ background: statusColor(r.statusLabel) }}
                  />
                </th>
              ))}
            </tr>
          </thead>
          <tbody style={{ height: virtual.getTotalSize() }}>
            {virtual.getVirtualItems().map((v) => {
              const row = rows[v.index];
              if (!row) return null;
              return (
                <tr
                  key={row.name}
                  aria-rowindex={v.index + 2}
                  className={`history-row${row.handler ? " handler" : ""}`}
                  data-step={row.name}
                  style={{ gridTemplateColumns: columns, transform: `translateY(${v.start}px)`, height: ROW_PX }}
                >
                  <th scope="row" className="history-step" title={row.name}>
                    {row.name}
                  </th>
                  {row.cells.map((s, i) => {
                    const run = runs[i];
                    const label = `${row.name} in run ${run?.dagRunId ?? ""}: ${s ? statusText(s) : "not in this run"}`;
                    return (
                      <td
                        // biome-ignore lint/suspicious/noArrayIndexKey: a column is a run's position
                        key={i}
                        aria-label={label}
                        title={label}
                        data-status={s ?? "none"}
                      >
                        <span className="history-cell" style={s ? { background: statusColor(s) } : undefined} />
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
