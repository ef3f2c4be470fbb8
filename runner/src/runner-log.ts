// The runner's own log, one timestamped line per event, on stderr. A wide run's reply brings
// several steps at once and each logs as it goes, and every write to a pipe is a system call
// (about 20 µs on a loaded host against 4 µs for a line joined to others: BENCHMARKS.md "A wide
// run's cost per step"). So the lines of one turn of the event loop leave together, in one
// write, when the turn ends; their times are those of the events. What is pending when the
// process exits (a forced shutdown, an uncaught error) is written on the way out.

let pending: string[] = [];

/** Writes the pending lines now: before a line written to stderr another way, to keep the order. */
export function flushLog(): void {
  if (pending.length === 0) return;
  const text = pending.join("");
  pending = [];
  process.stderr.write(text);
}

process.on("exit", flushLog);

/** Logs one line (without its newline) on stderr, stamped with the time now. */
export function logLine(line: string): void {
  pending.push(`${new Date().toISOString()} ${line}\n`);
  if (pending.length === 1) setImmediate(flushLog);
}
