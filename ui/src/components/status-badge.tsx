import { type AnyStatus, statusColor, statusText } from "../lib/status";

/** A status as a coloured pill with its words (colour is never the only signal). */
export function StatusBadge({ status }: { status: AnyStatus }) {
  return (
    <span className="badge" data-status={status} style={{ "--c": statusColor(status) } as React.CSSProperties}>
      {statusText(status)}
    </span>
  );
}

/** A small square for strips and grids; the status is in its title and accessible name. */
export function StatusDot({ status, title }: { status: AnyStatus; title?: string }) {
  const label = title ?? statusText(status);
  return (
    <span
      className="dot"
      data-status={status}
      role="img"
      aria-label={label}
      title={label}
      style={{ background: statusColor(status) }}
    />
  );
}
