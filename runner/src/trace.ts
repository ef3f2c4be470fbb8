// An opt-in trace of each step's way through the runner, to measure where a chain step's time
// goes (`npm run bench:stages`, BENCHMARKS.md). With DAGFLARE_RUNNER_TRACE=FILE the runner
// appends one JSON line per stage to FILE: {"t": epoch ms with a fraction, "stage", ...fields}.
// Off (the default), `trace` is undefined and a call site costs one check. On, a stage costs an
// array push; the lines are written once a second and when the runner exits, so the trace does
// not add file writes to the path it measures.
import { appendFileSync } from "node:fs";

/**
 * The stages, in a step's order: `sock-out`/`sock-in` a call leaving and its reply arriving on
 * the socket; `leased` the lease taken on; `spawn` the start asked for; `pid` the process
 * running; `exit` its exit seen; `closed` its output read to the end; `sent` its completion
 * handed to the transport.
 */
export type TraceStage = "sock-out" | "sock-in" | "leased" | "spawn" | "pid" | "exit" | "closed" | "sent";

type Fields = Record<string, string | number>;
export type Trace = (stage: TraceStage, fields: Fields, t?: number) => void;

/** Now, in epoch ms with the monotonic clock's fraction (Date.now() is whole ms). */
export const traceNow = (): number => performance.timeOrigin + performance.now();

export const trace: Trace | undefined = openTrace(process.env.DAGFLARE_RUNNER_TRACE);

function openTrace(file: string | undefined): Trace | undefined {
  if (!file) return undefined;
  let pending: Array<[number, TraceStage, Fields]> = [];
  const flush = () => {
    if (pending.length === 0) return;
    const lines = pending.map(([t, stage, fields]) => `${JSON.stringify({ t, stage, ...fields })}\n`).join("");
    pending = [];
    try {
      appendFileSync(file, lines);
    } catch {
      // A trace that cannot be written is a measurement lost, never a reason to stop a step.
    }
  };
  setInterval(flush, 1_000).unref();
  process.on("exit", flush);
  return (stage, fields, t = traceNow()) => {
    pending.push([t, stage, fields]);
  };
}
