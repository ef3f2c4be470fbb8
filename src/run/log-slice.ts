// Line windows over a log, as the contract's Log parameters describe: `head` N first lines,
// `tail` N last lines, or `offset` (1-based line) with `limit`. A log is read as chunks (the
// pieces it was stored in) starting at the one holding the window's first line, and reading
// stops once the window is full, so a read costs what it returns whatever the log's size.
// As Dagu's, the content is the window's lines joined by newlines: no newline after the last one,
// so a client splitting it into lines sees no empty line the step never wrote. PURE.
import { DEFAULT_LOG_LIMIT, MAX_LOG_READ_BYTES, utf8Bytes } from "../limits";

export interface LogWindow {
  head?: number;
  tail?: number;
  offset?: number;
  limit?: number;
}

export interface LogSlice {
  content: string;
  lineCount: number;
  totalLines: number;
  hasMore: boolean;
  isEstimate: boolean;
  /**
   * dagflare's: the window's last line ended with a newline, which `content` leaves out. A reader
   * following a growing log (the CLI) tells a whole last line from one still being written.
   */
  endsWithNewline: boolean;
}

/** A stored piece of a log, with the number of newlines before it in its stream. */
export interface LogChunk {
  text: string;
  newlinesBefore: number;
}

/** Lines of a text: its newlines, plus one for a last line without one. */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return text === "" || text.endsWith("\n") ? n : n + 1;
}

/** The 0-based range [start, end) of lines a window asks for, in a log of `total` lines. */
export function windowLines(total: number, w: LogWindow): { start: number; end: number } {
  if (w.tail !== undefined) return { start: Math.max(0, total - w.tail), end: total };
  if (w.head !== undefined) return { start: 0, end: Math.min(total, w.head) };
  const start = Math.min(total, (w.offset ?? 1) - 1);
  return { start, end: Math.min(total, start + (w.limit ?? DEFAULT_LOG_LIMIT)) };
}

export function sliceLog(text: string, w: LogWindow, maxBytes = MAX_LOG_READ_BYTES): LogSlice {
  return sliceChunks([{ text, newlinesBefore: 0 }], countLines(text), w, maxBytes);
}

/**
 * The window of a log given as chunks in order, the first holding (or preceding) the window's
 * first line. At most `maxBytes` of content: a window that would be larger ends early with
 * `hasMore`, and a single line larger than that is cut (on a character boundary).
 */
export function sliceChunks(chunks: Iterable<LogChunk>, total: number, w: LogWindow, maxBytes = MAX_LOG_READ_BYTES) {
  const { start, end } = windowLines(total, w);
  const lines: string[] = [];
  let lastEnded = false;
  let bytes = 0;
  let full = false;
  let line = -1;
  let current = "";
  // Adds the line being read to the window; false once the byte bound is reached.
  const take = (ended: boolean): boolean => {
    const size = utf8Bytes(current) + 1;
    if (bytes + size > maxBytes) {
      if (lines.length === 0) lines.push(cutUtf8(current, maxBytes - 1));
      lastEnded = false;
      full = true;
      return false;
    }
    lines.push(current);
    lastEnded = ended;
    bytes += size;
    return true;
  };
  reading: for (const chunk of start < end ? chunks : []) {
    if (line === -1) line = chunk.newlinesBefore;
    const pieces = chunk.text.split("\n");
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) {
        // The newline before this piece ends the current line.
        if (line >= start && line < end && !take(true)) break reading;
        line++;
        current = "";
        if (line >= end) break reading;
      }
      if (line >= start) {
        current += piece;
        // A line longer than the bound is not read to its end.
        if (current.length > maxBytes) {
          take(false);
          break reading;
        }
      }
    }
  }
  if (!full && line >= start && line < end && current !== "") take(false);
  return {
    content: lines.join("\n"),
    lineCount: lines.length,
    totalLines: total,
    hasMore: start > 0 || start + lines.length < total || full,
    isEstimate: false,
    endsWithNewline: lines.length > 0 && lastEnded,
  };
}

/** The head of `text` of at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  let cut = Math.max(0, maxBytes);
  // Back up over continuation bytes (10xxxxxx) to the start of the character being cut.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return new TextDecoder().decode(bytes.subarray(0, cut));
}
