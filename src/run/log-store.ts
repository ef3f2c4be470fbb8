// A run's step logs in its Durable Object's SQLite: one row per log entry a runner sent, with
// its size in UTF-8 bytes and its newlines, so that a read finds the window's first line by
// index and reads from there (src/run/log-slice.ts) instead of the whole log.
//
// `line_end` is the number of newlines of the stream up to the end of the row. It is set once
// every entry before the row is stored (entries may arrive out of order), so a stored window
// never shifts; the rows after a gap that was never filled get it when the attempt is over.
//
// The tables (`logs`, `log_meta`) are part of the run's schema (src/run/object/schema.ts) and
// its migrations; these reads and writes stay in plain SQL over the object's storage, for the
// row-value seeks that keep a window's read to the rows it covers.
import { MAX_LOG_BYTES_PER_ATTEMPT } from "../limits";
import type { LogEntry } from "../shared/protocol";
import { countLines, cutUtf8, type LogSlice, type LogWindow, sliceChunks } from "./log-slice";

export type LogStream = "stdout" | "stderr";

export interface LogKey {
  step: string;
  attempt: number;
}

const encoder = new TextEncoder();

function measure(text: string): { bytes: number; newlines: number; openEnd: number } {
  const lines = countLines(text);
  const openEnd = text !== "" && !text.endsWith("\n") ? 1 : 0;
  return { bytes: encoder.encode(text).length, newlines: lines - openEnd, openEnd };
}

/**
 * Stores a batch of entries of the lease's attempt (a repeated seq is ignored) and answers
 * the highest seq up to which every entry is stored. Past the attempt's cap, text is dropped
 * and counted. Call inside a storage transaction.
 */
export function appendLog(sql: SqlStorage, key: LogKey, entries: LogEntry[]): { ackedSeq: number } {
  const { step, attempt } = key;
  const meta = sql
    .exec<{ acked_seq: number; bytes: number; dropped_bytes: number }>(
      "SELECT acked_seq, bytes, dropped_bytes FROM log_meta WHERE step = ? AND attempt = ?",
      step,
      attempt,
    )
    .toArray()[0] ?? { acked_seq: 0, bytes: 0, dropped_bytes: 0 };
  let { bytes, dropped_bytes: dropped } = meta;
  for (const e of entries) {
    let text = e.text;
    let m = measure(text);
    if (bytes + m.bytes > MAX_LOG_BYTES_PER_ATTEMPT) {
      text = cutUtf8(text, MAX_LOG_BYTES_PER_ATTEMPT - bytes);
      const kept = measure(text);
      dropped += m.bytes - kept.bytes;
      m = kept;
    }
    const res = sql.exec(
      `INSERT OR IGNORE INTO logs (step, attempt, seq, stream, text, bytes, newlines, open_end)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      step,
      attempt,
      e.seq,
      e.stream,
      text,
      m.bytes,
      m.newlines,
      m.openEnd,
    );
    if (res.rowsWritten > 0) bytes += m.bytes;
  }
  const ackedSeq = seal(sql, key, meta.acked_seq, false);
  sql.exec(
    `INSERT INTO log_meta (step, attempt, acked_seq, bytes, dropped_bytes) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (step, attempt) DO UPDATE SET acked_seq = excluded.acked_seq, bytes = excluded.bytes,
     dropped_bytes = excluded.dropped_bytes`,
    step,
    attempt,
    ackedSeq,
    bytes,
    dropped,
  );
  return { ackedSeq };
}

/**
 * Gives `line_end` to the rows after `ackedSeq` in seq order, as far as they are unbroken (all
 * of them when `all`: no more entries will come). Answers the new unbroken prefix.
 */
function seal(sql: SqlStorage, key: LogKey, ackedSeq: number, all: boolean): number {
  const { step, attempt } = key;
  const ends = new Map<string, number>();
  const endOf = (stream: string) => {
    const known = ends.get(stream);
    if (known !== undefined) return known;
    const last = sql
      .exec<{ line_end: number }>(
        `SELECT line_end FROM logs WHERE step = ? AND attempt = ? AND stream = ? AND line_end IS NOT NULL
         ORDER BY line_end DESC, seq DESC LIMIT 1`,
        step,
        attempt,
        stream,
      )
      .toArray()[0];
    return last?.line_end ?? 0;
  };
  const pending = sql
    .exec<{ seq: number; stream: string; newlines: number }>(
      "SELECT seq, stream, newlines FROM logs WHERE step = ? AND attempt = ? AND seq > ? AND line_end IS NULL ORDER BY seq",
      step,
      attempt,
      ackedSeq,
    )
    .toArray();
  let acked = ackedSeq;
  for (const r of pending) {
    if (!all && r.seq !== acked + 1) break;
    acked = r.seq;
    const lineEnd = endOf(r.stream) + r.newlines;
    ends.set(r.stream, lineEnd);
    sql.exec("UPDATE logs SET line_end = ? WHERE step = ? AND attempt = ? AND seq = ?", lineEnd, step, attempt, r.seq);
  }
  return all ? ackedSeq : acked;
}

/** Seals what an attempt that is over left after a gap, so that reads show it. */
export function closeLog(sql: SqlStorage, key: LogKey): void {
  const meta = sql
    .exec<{ acked_seq: number }>("SELECT acked_seq FROM log_meta WHERE step = ? AND attempt = ?", key.step, key.attempt)
    .toArray()[0];
  if (meta) seal(sql, key, meta.acked_seq, true);
}

/** Removes an attempt's log (an attempt number used again after a lease that never started). */
export function clearLog(sql: SqlStorage, key: LogKey): void {
  sql.exec("DELETE FROM logs WHERE step = ? AND attempt = ?", key.step, key.attempt);
  sql.exec("DELETE FROM log_meta WHERE step = ? AND attempt = ?", key.step, key.attempt);
}

/** Counts output the runner could not ship in the attempt's dropped bytes. */
export function addDroppedBytes(sql: SqlStorage, key: LogKey, bytes: number): void {
  sql.exec(
    `INSERT INTO log_meta (step, attempt, acked_seq, bytes, dropped_bytes) VALUES (?, ?, 0, 0, ?)
     ON CONFLICT (step, attempt) DO UPDATE SET dropped_bytes = dropped_bytes + excluded.dropped_bytes`,
    key.step,
    key.attempt,
    bytes,
  );
}

/** Bytes of an attempt's log dropped at the cap. */
export function droppedBytes(sql: SqlStorage, key: LogKey): number {
  return (
    sql
      .exec<{ dropped_bytes: number }>(
        "SELECT dropped_bytes FROM log_meta WHERE step = ? AND attempt = ?",
        key.step,
        key.attempt,
      )
      .toArray()[0]?.dropped_bytes ?? 0
  );
}

/** A window of one stream of an attempt's log, reading only the rows it covers. */
export function readLog(sql: SqlStorage, key: LogKey, stream: LogStream, w: LogWindow): LogSlice {
  const { step, attempt } = key;
  const last = sql
    .exec<{ line_end: number; open_end: number }>(
      `SELECT line_end, open_end FROM logs WHERE step = ? AND attempt = ? AND stream = ? AND line_end IS NOT NULL
       AND bytes > 0 ORDER BY line_end DESC, seq DESC LIMIT 1`,
      step,
      attempt,
      stream,
    )
    .toArray()[0];
  const total = last ? last.line_end + last.open_end : 0;
  return sliceChunks(chunksFrom(sql, key, stream, total, w), total, w);
}

/** Rows a page at a time, from the one holding the window's first line on, as the slice asks. */
function* chunksFrom(sql: SqlStorage, key: LogKey, stream: LogStream, total: number, w: LogWindow) {
  const start = w.tail !== undefined ? Math.max(0, total - w.tail) : w.head !== undefined ? 0 : (w.offset ?? 1) - 1;
  // The first row whose end is at or past `start` newlines holds the start of line `start`.
  let after: [number, number] = [start, -1];
  for (;;) {
    const page = sql
      .exec<{ text: string; newlines: number; line_end: number; seq: number }>(
        `SELECT text, newlines, line_end, seq FROM logs WHERE step = ? AND attempt = ? AND stream = ?
         AND (line_end, seq) > (?, ?) ORDER BY line_end, seq LIMIT ${READ_PAGE_ROWS}`,
        key.step,
        key.attempt,
        stream,
        ...after,
      )
      .toArray();
    for (const r of page) yield { text: r.text, newlinesBefore: r.line_end - r.newlines };
    const last = page.at(-1);
    if (!last || page.length < READ_PAGE_ROWS) return;
    after = [last.line_end, last.seq];
  }
}

/** Rows fetched at once by a read: a window seldom needs more. */
const READ_PAGE_ROWS = 16;
