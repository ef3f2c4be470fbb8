// A log as numbered lines, virtualised so a 100,000-line log scrolls smoothly. It follows the tail
// while the user is at the bottom and stops when they scroll up. Copying gives the exact lines
// (line numbers are not part of the selection, and rows scrolled out of the DOM are filled in).
import { useVirtualizer } from "@tanstack/react-virtual";
import { type ClipboardEvent, useEffect, useMemo, useRef, useState } from "react";
import "./log-view.css";

const LINE_PX = 18;

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** `empty`: what the view says while the log has no line (see LogView's emptyLogText). */
export function LogLines(props: { text: string; label: string; empty: string; firstLine?: number }) {
  const lines = useMemo(() => splitLines(props.text), [props.text]);
  const scroller = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const rows = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => LINE_PX,
    overscan: 30,
  });
  // New lines while following: stay at the bottom.
  useEffect(() => {
    if (follow && lines.length > 0) rows.scrollToIndex(lines.length - 1, { align: "end" });
  }, [follow, lines.length, rows]);
  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_PX;
    if (atBottom !== follow) setFollow(atBottom);
  };
  const first = props.firstLine ?? 1;
  const gutter = `${String(first + lines.length).length + 1}ch`;
  return (
    <div className="log-lines-wrap">
      <div
        className="log-lines"
        ref={scroller}
        onScroll={onScroll}
        onCopy={(e) => copyExact(e, lines)}
        role="log"
        aria-label={props.label}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls by keyboard too
        tabIndex={0}
        style={{ "--gutter": gutter } as React.CSSProperties}
      >
        {lines.length === 0 && <p className="muted log-empty">{props.empty}</p>}
        <div style={{ height: rows.getTotalSize(), position: "relative" }}>
          {rows.getVirtualItems().map((item) => (
            <div
              key={item.key}
              data-index={item.index}
              data-line={item.index}
              ref={rows.measureElement}
              className="log-line"
              style={{ transform: `translateY(${item.start}px)` }}
            >
              <span className="log-no" aria-hidden="true">
                {first + item.index}
              </span>
              <span className="log-text">{lines[item.index]}</span>
            </div>
          ))}
        </div>
      </div>
      {!follow && lines.length > 0 && (
        <button type="button" className="log-follow" onClick={() => setFollow(true)}>
          ↓ Follow the tail
        </button>
      )}
    </div>
  );
}

/** Where a selection boundary falls: line index and character offset within the line's text. */
function pointOf(node: Node | null, offset: number): { line: number; char: number } | null {
  const el = node instanceof Element ? node : node?.parentElement;
  const row = el?.closest<HTMLElement>("[data-line]");
  if (!row || !node) return null;
  const line = Number(row.dataset.line);
  const text = row.querySelector(".log-text");
  if (!text?.contains(node)) return { line, char: node === row && offset === 0 ? 0 : Number.POSITIVE_INFINITY };
  // Characters before the boundary within this line's text node(s).
  const range = document.createRange();
  range.selectNodeContents(text);
  range.setEnd(node, offset);
  return { line, char: range.toString().length };
}

/** Copies the selected lines from the log itself, so lines outside the DOM are not lost. */
function copyExact(e: ClipboardEvent, lines: string[]): void {
  const sel = window.getSelection();
  if (!sel || sel.isCollapsed || sel.rangeCount === 0) return;
  const r = sel.getRangeAt(0);
  const a = pointOf(r.startContainer, r.startOffset);
  const b = pointOf(r.endContainer, r.endOffset);
  if (!a || !b) return;
  const picked = lines.slice(a.line, b.line + 1);
  if (picked.length === 0) return;
  const lastIdx = picked.length - 1;
  picked[lastIdx] = (picked[lastIdx] ?? "").slice(0, b.char);
  picked[0] = (picked[0] ?? "").slice(a.char === Number.POSITIVE_INFINITY ? (picked[0] ?? "").length : a.char);
  e.clipboardData.setData("text/plain", picked.join("\n"));
  e.preventDefault();
}
