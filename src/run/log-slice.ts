// Line windows over a log text, as the contract's Log parameters describe:
// `head` N first lines, `tail` N last lines, or `offset` (1-based line) with `limit`.
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
}

export const DEFAULT_LOG_LIMIT = 10_000;

export function sliceLog(text: string, w: LogWindow): LogSlice {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const total = lines.length;
  let start = 0;
  let end = total;
  if (w.tail !== undefined) {
    start = Math.max(0, total - w.tail);
  } else if (w.head !== undefined) {
    end = Math.min(total, w.head);
  } else {
    start = Math.min(total, (w.offset ?? 1) - 1);
    end = Math.min(total, start + (w.limit ?? DEFAULT_LOG_LIMIT));
  }
  const picked = lines.slice(start, end);
  const whole = start === 0 && end === total;
  return {
    // The full text keeps its exact bytes (a missing final newline included).
    content: whole ? text : picked.map((l) => `${l}\n`).join(""),
    lineCount: picked.length,
    totalLines: total,
    hasMore: start > 0 || end < total,
    isEstimate: false,
  };
}
