// Output for people: aligned tables, coloured statuses and short durations. picocolors turns
// colour off by itself when stdout is not a terminal or NO_COLOR is set.
import { stripVTControlCharacters } from "node:util";
import pc from "picocolors";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

const COLOUR: Record<string, (s: string) => string> = {
  succeeded: pc.green,
  failed: pc.red,
  rejected: pc.red,
  aborted: pc.yellow,
  partially_succeeded: pc.yellow,
  running: pc.cyan,
  retrying: pc.cyan,
  waiting: pc.magenta,
  queued: pc.blue,
  skipped: pc.dim,
  not_started: pc.dim,
};

export function status(label: string): string {
  return (COLOUR[label] ?? ((s: string) => s))(label);
}

/** Epoch ms of the API's RFC 3339 times; Dagu writes an unset time as "-". */
export function epochMs(time: string | undefined): number | undefined {
  if (!time || time === "-") return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

/** From start to finish, or to `nowMs` while it runs; "-" before it started. */
export function duration(startedAt: string | undefined, finishedAt: string | undefined, nowMs = Date.now()): string {
  const start = epochMs(startedAt);
  if (start === undefined) return "-";
  return formatMs((epochMs(finishedAt) ?? nowMs) - start);
}

export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const s = Math.round(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, "0")}m`;
}

/** A local time for a table cell. */
export function when(time: string | undefined): string {
  const ms = epochMs(time);
  return ms === undefined ? "-" : new Date(ms).toLocaleString("sv-SE").slice(0, 19);
}

const visibleLength = (s: string) => stripVTControlCharacters(s).length;

/** Pads to a width on screen: colour codes take no room. */
export const pad = (s: string, width: number) => s + " ".repeat(Math.max(0, width - visibleLength(s)));

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string[] {
  const all = [headers.map((h) => pc.bold(h)), ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ""))));
  return all.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : pad(cell, widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
