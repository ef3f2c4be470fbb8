// Times in the user's time zone, durations for people. The API sends RFC 3339, or "" (a step of a DAG that never ran: "-") when unset.

export function parseTime(t: string | undefined | null): number | null {
  if (!t || t === "-") return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export function formatTime(t: string | undefined | null): string {
  const ms = parseTime(t);
  return ms === null ? "-" : dateTime.format(ms);
}

/** 850 ms, 12.3 s, 4m 05s, 2h 03m, 3d 4h. */
export function formatDuration(ms: number | null): string {
  if (ms === null || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** From start to finish, or to now while it runs. */
export function durationOf(startedAt: string, finishedAt: string, now = Date.now()): number | null {
  const start = parseTime(startedAt);
  if (start === null) return null;
  return (parseTime(finishedAt) ?? now) - start;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "in 5 minutes", "3 hours ago". */
export function fromNow(t: string | undefined | null, now = Date.now()): string {
  const ms = parseTime(t);
  if (ms === null) return "-";
  const diff = ms - now;
  const abs = Math.abs(diff);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ["day", 86_400_000],
    ["hour", 3_600_000],
    ["minute", 60_000],
    ["second", 1000],
  ];
  for (const [unit, size] of units) {
    if (abs >= size || unit === "second") return relative.format(Math.round(diff / size), unit);
  }
  return "-";
}
