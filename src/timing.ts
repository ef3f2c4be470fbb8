// Opt-in marks of a run's way through the server, to measure a run's fixed cost (its start and
// its end; `npm run bench:fixed -- --timing`, BENCHMARKS.md). Off unless the operator sets
// DAGFLARE_TIMING=on; then each mark is one line of the Worker's log,
// `dagflare-timing {"mark", "run", "t"}`. Off, a mark costs one comparison. workerd's clock moves
// between I/O, not within a turn, so a mark is the time of the I/O that came before it.
import type { Env } from "./env";

export function timingMark(env: Pick<Env, "DAGFLARE_TIMING">, mark: string, run: string): void {
  if (env.DAGFLARE_TIMING === "on") console.log(`dagflare-timing ${JSON.stringify({ mark, run, t: Date.now() })}`);
}
