// The runner's V8 settings, applied by the runner itself as it starts, so `node runner.mjs`
// typed by hand, the `dagflare runner` command and a systemd unit all get them without a flag
// on the command line. `main` (cli.ts) applies them first. Figures: BENCHMARKS.md "Runner idle
// memory"; what they mean for users: docs/runner.md#memory.
//
// `--optimize-for-size`: V8's heap keeps its young generation at its first size instead of
// growing it to 4 MiB, which an idle runner would otherwise keep committed: 4 MiB less
// on both Node versions. It works from inside because V8 reads it at each collection; the
// heap-size flags (`--max-semi-space-size`) are read once, before any JavaScript runs. More
// young collections while steps run cost no throughput the benchmark could see (a step's cost
// is its process and its round trips; the runner's own CPU time stayed within its spread).
//
// `--bytecode-old-age=1`: V8 drops the bytecode of a function that did not run since the last
// full collection (by default, since the last 6 on Node 22, 5 on Node 20), and compiles it again
// if it is called. An idle runner has run its start-up code (flags, configuration, the
// protocol's schemas) once and never again: 0.8 MiB less on Node 22. A step's path runs
// between full collections while steps come, so it keeps its bytecode; after a quiet spell, the
// first step compiles the functions it calls again, which the benchmark could not tell from its
// spread. V8 reads it at each full collection, so it works from inside.
//
// (`--liftoff-only`, set here before, kept V8 from compiling undici's WebAssembly HTTP parser a
// second time; the runner no longer loads undici, so no WebAssembly runs in it: http-post.ts.)
import { setFlagsFromString } from "node:v8";

export const RUNNER_V8_FLAGS = ["--optimize-for-size", "--bytecode-old-age=1"] as const;

/** Sets RUNNER_V8_FLAGS in this process (V8 only warns on stderr about a flag it does not know). */
export function applyRunnerV8Flags(): void {
  for (const flag of RUNNER_V8_FLAGS) setFlagsFromString(flag);
}
