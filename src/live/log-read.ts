// Reads of a step's stored log for the live socket, by seq: only up to the attempt's acked seq
// (the contiguous prefix the runner's batches have filled), so a batch that arrives ahead of a
// gap is sent once the gap is filled, in order, and never twice.
interface Which {
  stepName: string;
  attempt: number;
  stream: "stdout" | "stderr";
}

function ackedSeq(sql: SqlStorage, w: Which): number {
  const row = sql
    .exec<{ acked_seq: number }>("SELECT acked_seq FROM log_meta WHERE step = ? AND attempt = ?", w.stepName, w.attempt)
    .toArray()[0];
  return row?.acked_seq ?? 0;
}

/** The last `lines` lines stored so far, and the seq they reach. Reads from the end, only what it needs. */
export function logTail(sql: SqlStorage, w: Which, lines: number): { text: string; seq: number } {
  const seq = ackedSeq(sql, w);
  const chunks: string[] = [];
  let newlines = 0;
  for (const r of sql.exec<{ text: string }>(
    "SELECT text FROM logs WHERE step = ? AND attempt = ? AND stream = ? AND seq <= ? ORDER BY seq DESC",
    w.stepName,
    w.attempt,
    w.stream,
    seq,
  )) {
    chunks.push(r.text);
    for (let i = r.text.indexOf("\n"); i !== -1; i = r.text.indexOf("\n", i + 1)) newlines++;
    // One newline more than the lines wanted: the line before them is complete and can be cut.
    if (newlines > lines) break;
  }
  return { text: lastLines(chunks.reverse().join(""), lines), seq };
}

/** The text stored after seq `after`, and the seq it reaches. */
export function logSince(sql: SqlStorage, w: Which, after: number): { text: string; seq: number } {
  const seq = ackedSeq(sql, w);
  if (seq <= after) return { text: "", seq: after };
  let text = "";
  for (const r of sql.exec<{ text: string }>(
    "SELECT text FROM logs WHERE step = ? AND attempt = ? AND stream = ? AND seq > ? AND seq <= ? ORDER BY seq",
    w.stepName,
    w.attempt,
    w.stream,
    after,
    seq,
  )) {
    text += r.text;
  }
  return { text, seq };
}

/** The last `n` lines of a text, byte for byte (a last line without its newline stays so). */
export function lastLines(text: string, n: number): string {
  let pos = text.endsWith("\n") ? text.length - 1 : text.length;
  for (let k = 0; k < n; k++) {
    const i = pos > 0 ? text.lastIndexOf("\n", pos - 1) : -1;
    if (i === -1) return text;
    pos = i;
  }
  return text.slice(pos + 1);
}
