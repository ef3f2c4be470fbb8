import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useLayoutEffect, useRef, useState } from "react";

export interface RowMeasure {
  ref: (el: Element | null) => void;
  "data-index": number;
}

/** Below this many rows every row is rendered; above, only those near the viewport. */
const VIRTUAL_FROM = 150;

/**
 * A table body that renders only the rows near the viewport when there are many (a page of up
 * to 1,000 DAGs or runs), with spacer rows keeping the scroll height; the window scrolls, so the
 * page behaves like any other.
 */
export function VirtualTbody<T>(props: {
  rows: T[];
  rowKey: (row: T) => string;
  /** Renders one <tr>; spread `measure` on it so the row's real height is used. */
  renderRow: (row: T, measure?: RowMeasure) => ReactNode;
  columns: number;
  rowHeightPx?: number;
}) {
  const { rows } = props;
  const ref = useRef<HTMLTableSectionElement>(null);
  const [offset, setOffset] = useState(0);
  useLayoutEffect(() => {
    setOffset(ref.current ? ref.current.getBoundingClientRect().top + window.scrollY : 0);
  }, []);
  const virtual = rows.length >= VIRTUAL_FROM;
  const v = useWindowVirtualizer({
    count: virtual ? rows.length : 0,
    estimateSize: () => props.rowHeightPx ?? 44,
    overscan: 12,
    scrollMargin: offset,
  });
  if (!virtual) {
    return (
      <tbody ref={ref}>
        {rows.map((r) => (
          <Keyed key={props.rowKey(r)}>{props.renderRow(r)}</Keyed>
        ))}
      </tbody>
    );
  }
  const items = v.getVirtualItems();
  const before = items[0] ? items[0].start - offset : 0;
  const last = items[items.length - 1];
  const after = last ? v.getTotalSize() - (last.end - offset) : 0;
  return (
    <tbody ref={ref}>
      {before > 0 && <Spacer height={before} columns={props.columns} />}
      {items.map((item) => {
        const row = rows[item.index] as T;
        const measure = { ref: v.measureElement, "data-index": item.index };
        return <Keyed key={props.rowKey(row)}>{props.renderRow(row, measure)}</Keyed>;
      })}
      {after > 0 && <Spacer height={after} columns={props.columns} />}
    </tbody>
  );
}

function Keyed({ children }: { children: ReactNode }) {
  return children;
}

function Spacer({ height, columns }: { height: number; columns: number }) {
  return (
    <tr className="spacer-row">
      <td colSpan={columns} style={{ height, padding: 0, border: "none" }} />
    </tr>
  );
}
