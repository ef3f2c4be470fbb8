// The runner's V8 settings, applied by the runner itself as it starts, so `node runner.mjs`
// typed by hand, the `dagflare runner` command and a systemd unit all get them without a flag
// on the command line. Imported first by cli.ts: it must run before the first `fetch` or
// WebSocket compiles undici's HTTP parser (WebAssembly).
//
// `--liftoff-only`: V8 compiles that parser with its baseline compiler (Liftoff) only, never
// with its optimising one (TurboFan), whose compilation takes 6 to 15 MiB that the process
// keeps (BENCHMARKS.md "Runner idle memory (2026-12-01, V8 settings)"; `--no-wasm-tier-up`
// alone does not save it). The parser reads only the short replies of the runner's HTTP calls
// (its fleet reports, and leases while the socket is down), so baseline code is fast enough.
// Should Liftoff refuse undici's SIMD parser (a CPU without SSE4.1), undici falls back to its
// plain one. The flag affects WebAssembly only, not the runner's JavaScript.
import { setFlagsFromString } from "node:v8";

export const RUNNER_V8_FLAGS = ["--liftoff-only"] as const;

for (const flag of RUNNER_V8_FLAGS) setFlagsFromString(flag);
