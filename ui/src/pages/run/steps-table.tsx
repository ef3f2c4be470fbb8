// Every node of the run with its status, attempt, runner, times and error; a parallel step's
// instances indented under it, handler nodes below.
// Virtualised (only the rows in view are in the DOM), so a 2,000-step run scrolls smoothly.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef } from "react";
import type { RunNode } from "../../api/types";
import { StatusBadge } from "../../components/status-badge";
import { durationOf, formatDuration, formatTime, parseTime } from "../../lib/format";
import { isActive } from "../../lib/status";
import { HANDLER_NAMES, type ListedNode } from "./nodes";
import { useNow } from "./use-now";
import "./steps-table.css";

const ROW_PX = 34;

// Within a run the day is known from the header: the table shows the time, the date is in its title.
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
function clockTime(t: string): string {
  const ms = parseTime(t);
  return ms === null ? "-" : clock.format(ms);
}

export function StepsTable(props: { nodes: ListedNode[]; selected?: string; onSelect: (stepName: string) => void }) {
  const { nodes, selected, onSelect } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({
    count: nodes.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_PX,
    overscan: 12,
  });
  const now = useNow(nodes.some((l) => l.node.statusLabel === "running" || l.node.statusLabel === "retrying"));
  const items = rows.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = rows.getTotalSize() - (items.at(-1)?.end ?? 0);
  return (
    <div className="steps-scroll" ref={scroller}>
      <table className="list steps-table" aria-label="steps" aria-rowcount={nodes.length + 1}>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col">Attempt</th>
            <th scope="col">Runner</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Exit</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {padTop > 0 && (
            <tr className="pad-row">
              <td colSpan={8} style={{ height: padTop, padding: 0 }} />
            </tr>
          )}
          {items.map((item) => {
            const listed = nodes[item.index];
            if (!listed) return null;
            return (
              <StepRow
                key={listed.node.step.name}
                listed={listed}
                index={item.index}
                now={now}
                selected={listed.node.step.name === selected}
                onSelect={onSelect}
              />
            );
          })}
          {padBottom > 0 && (
            <tr className="pad-row">
              <td colSpan={8} style={{ height: padBottom, padding: 0 }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function StepRow(props: {
  listed: ListedNode;
  index: number;
  now: number;
  selected: boolean;
  onSelect: (stepName: string) => void;
}) {
  const { node, handler, instanceOf } = props.listed;
  const name = node.step.name;
  return (
    <tr
      aria-rowindex={props.index + 2}
      aria-selected={props.selected}
      className={handler ? "handler-row" : instanceOf !== undefined ? "instance-row" : undefined}
      data-step={name}
      onClick={() => props.onSelect(name)}
    >
      <td className="step-name">
        {/* The row opens the step's log on click; the button gives keyboards the same. */}
        <button
          type="button"
          className="linkish"
          onClick={(e) => {
            e.stopPropagation();
            props.onSelect(name);
          }}
        >
          {name}
        </button>
        {handler && <span className="tag">on {HANDLER_NAMES[handler]}</span>}
        {node.instances && <span className="tag">parallel, {node.instances.length} instances</span>}
      </td>
      <td>
        <StatusBadge status={node.statusLabel} />
      </td>
      <td>{node.attempt > 0 ? node.attempt : "-"}</td>
      {/* A narrow column cuts a long runner id: the title gives it whole. */}
      <td className="mono" title={node.runnerId}>
        {node.runnerId ?? "-"}
      </td>
      <td title={formatTime(node.startedAt)}>{clockTime(node.startedAt)}</td>
      <td>{formatDuration(stepDuration(node, props.now))}</td>
      <td>{node.exitCode ?? "-"}</td>
      <td className="step-error" title={node.error}>
        {node.error ?? ""}
      </td>
    </tr>
  );
}

/** A running step's duration runs to now; a finished one's to its end. */
export function stepDuration(node: RunNode, tick: number): number | null {
  // The tick can predate a step that started since: never show a negative duration.
  const now = Math.max(tick, Date.now());
  if (isActive(node.statusLabel) && node.statusLabel !== "waiting") return durationOf(node.startedAt, "-", now);
  return durationOf(node.startedAt, node.finishedAt, now);
}
