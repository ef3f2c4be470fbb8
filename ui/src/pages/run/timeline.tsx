// A Gantt of the steps: one bar per node from its start to its end (or now while it runs),
// coloured by status, on a time axis with ticks in the user's time zone. Hovering a bar shows its
// times and duration.
import { useEffect, useMemo, useRef, useState } from "react";
import { durationOf, formatDuration, formatTime, parseTime } from "../../lib/format";
import { statusColor, statusText } from "../../lib/status";
import type { ListedNode } from "./nodes";
import { useNow } from "./use-now";
import "./timeline.css";

const ROW_PX = 22;
const BAR_PX = 14;
/** The step names' column at most; in a narrow window, a share of the width. */
const LABEL_PX = 200;
const LABEL_SHARE = 0.4;
/** Room for one tick's time ("05:47:40.6 PM"), so that neighbouring ticks never overlap. */
const TICK_PX = 85;
const MIN_WIDTH_PX = 280;
const AXIS_PX = 24;
const TICK_STEPS_MS = [
  100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const clockMs = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 1,
});

/** A tick step giving about `want` ticks over `spanMs`. */
export function tickStep(spanMs: number, want = 8): number {
  return TICK_STEPS_MS.find((s) => spanMs / s <= want) ?? TICK_STEPS_MS.at(-1) ?? 86_400_000;
}

export function Timeline({ nodes }: { nodes: ListedNode[] }) {
  const running = nodes.some((l) => l.node.statusLabel === "running" || l.node.statusLabel === "retrying");
  const now = useNow(running);
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(900);
  const [hover, setHover] = useState<number | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(el.clientWidth, MIN_WIDTH_PX)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const bars = useMemo(
    () =>
      nodes.map((l) => {
        const start = parseTime(l.node.startedAt);
        const end = parseTime(l.node.finishedAt) ?? (start === null ? null : now);
        return { listed: l, start, end };
      }),
    [nodes, now],
  );
  const started = bars.filter((b) => b.start !== null);
  if (started.length === 0) return <p className="muted">No step has started yet.</p>;
  const t0 = Math.min(...started.map((b) => b.start as number));
  const t1 = Math.max(t0 + 100, ...started.map((b) => b.end as number));
  const labelPx = Math.min(LABEL_PX, Math.round(width * LABEL_SHARE));
  const maxChars = Math.round(labelPx * 0.14);
  const chartPx = width - labelPx - 16;
  const x = (t: number) => labelPx + ((t - t0) / (t1 - t0)) * chartPx;
  const step = tickStep(t1 - t0, Math.min(8, Math.max(2, Math.floor(chartPx / TICK_PX))));
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  const height = AXIS_PX + bars.length * ROW_PX + 4;
  const hovered = hover === null ? undefined : bars[hover];
  return (
    <div className="timeline" ref={box}>
      <p className="timeline-info" aria-live="polite">
        {hovered ? (
          <>
            <strong>{hovered.listed.node.step.name}</strong> {statusText(hovered.listed.node.statusLabel)}
            {hovered.start !== null &&
              ` · ${formatTime(hovered.listed.node.startedAt)} → ${
                parseTime(hovered.listed.node.finishedAt) === null ? "now" : formatTime(hovered.listed.node.finishedAt)
              } · ${formatDuration(durationOf(hovered.listed.node.startedAt, hovered.listed.node.finishedAt, now))}`}
          </>
        ) : (
          <span className="muted">
            From {formatTime(new Date(t0).toISOString())}, {formatDuration(t1 - t0)} in all. Hover a bar for its times.
          </span>
        )}
      </p>
      <svg width={width} height={height} role="img" aria-label="timeline of the steps">
        <g className="timeline-axis">
          {ticks.map((t) => (
            <g key={t}>
              <line x1={x(t)} x2={x(t)} y1={AXIS_PX - 6} y2={height} />
              <text x={x(t)} y={AXIS_PX - 10} textAnchor="middle">
                {(step < 1000 ? clockMs : clock).format(t)}
              </text>
            </g>
          ))}
        </g>
        {bars.map((b, i) => {
          const y = AXIS_PX + i * ROW_PX;
          const name = b.listed.node.step.name;
          const label = `${name}: ${statusText(b.listed.node.statusLabel)}`;
          return (
            // biome-ignore lint/a11y/noStaticElementInteractions: hover only mirrors the bar's <title>
            <g
              key={name}
              className="timeline-row"
              data-step={name}
              onMouseEnter={() => setHover(i)}
              onMouseLeave={() => setHover((h) => (h === i ? null : h))}
            >
              <rect className="timeline-band" x={0} y={y} width={width} height={ROW_PX} />
              <text x={labelPx - 8} y={y + ROW_PX / 2 + 4} textAnchor="end" className="timeline-label">
                {name.length > maxChars ? `${name.slice(0, maxChars - 1)}…` : name}
              </text>
              {b.start !== null && b.end !== null && (
                <rect
                  className="timeline-bar"
                  x={x(b.start)}
                  y={y + (ROW_PX - BAR_PX) / 2}
                  width={Math.max(2, x(b.end) - x(b.start))}
                  height={BAR_PX}
                  rx={3}
                  fill={statusColor(b.listed.node.statusLabel)}
                >
                  <title>{`${label}, ${formatDuration(b.end - b.start)}`}</title>
                </rect>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
