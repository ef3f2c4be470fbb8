// Every node of the run with its status, attempt, runner, times and error; a parallel step's
// instances indented under it, handler nodes below. In a box too narrow for the columns (a phone)
// each row is a card instead: name and status, then the other values labelled (steps-table.css).
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
/** A card's usual height, and the box's width below which rows are cards (36rem). */
const CARD_PX = 64;
const CARDS_BELOW_PX = 576;

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
    // Cards vary in height (a long error wraps): each row's height is measured as it is drawn.
    estimateSize: () =>
      (scroller.current?.clientWidth ?? Number.POSITIVE_INFINITY) < CARDS_BELOW_PX ? CARD_PX : ROW_PX,
    measureElement: (el) => el.getBoundingClientRect().height,
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
                measure={rows.measureElement}
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
  measure: (el: Element | null) => void;
  now: number;
  selected: boolean;
  onSelect: (stepName: string) => void;
}) {
  const { node, handler, instanceOf } = props.listed;
  const name = node.step.name;
  return (
    <tr
      ref={props.measure}
      data-index={props.index}
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
          // A name longer than its column ends in an ellipsis: whole in the tooltip.
          title={name}
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
      <td className="step-status">
        <StatusBadge status={node.statusLabel} />
      </td>
      <Field label="Attempt">{node.attempt > 0 ? node.attempt : undefined}</Field>
      {/* A narrow column cuts a long runner id: the title gives it whole. */}
      <Field label="Runner" mono title={node.runnerId}>
        {node.runnerId}
      </Field>
      <Field label="Started" title={formatTime(node.startedAt)}>
        {parseTime(node.startedAt) === null ? undefined : clockTime(node.startedAt)}
      </Field>
      <Field label="Duration">{nonEmpty(formatDuration(stepDuration(node, props.now)))}</Field>
      <Field label="Exit">{node.exitCode}</Field>
      <td className="step-error" title={node.error}>
        {node.error ?? ""}
      </td>
    </tr>
  );
}

/**
 * A value of a step: "-" when it has none. Its label is shown only when the row is a card, where
 * no column head names it (in the table it is left out, for screen readers too); a card leaves an
 * empty value out.
 */
function Field(props: { label: string; mono?: boolean; title?: string; children: string | number | undefined }) {
  const empty = props.children === undefined;
  return (
    <td title={props.title} data-empty={empty || undefined}>
      <span className="card-label">{props.label}</span>
      {props.mono && !empty ? <span className="mono">{props.children}</span> : empty ? "-" : props.children}
    </td>
  );
}

const nonEmpty = (s: string): string | undefined => (s === "-" || s === "" ? undefined : s);

/** A running step's duration runs to now; a finished one's to its end. */
export function stepDuration(node: RunNode, tick: number): number | null {
  // The tick can predate a step that started since: never show a negative duration.
  const now = Math.max(tick, Date.now());
  if (isActive(node.statusLabel) && node.statusLabel !== "waiting") return durationOf(node.startedAt, "-", now);
  return durationOf(node.startedAt, node.finishedAt, now);
}
