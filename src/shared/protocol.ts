// The runner protocol: zod schemas shared by the Worker (src/routes/runners.ts) and the
// runner (runner/src). Schema and type carry one name. See docs/runner-protocol.md.
// A namespace import, not `import { z }`: the runner's bundler then keeps only the parts of zod
// these schemas use, and leaves out its 40 locales and JSON Schema converters (the runner bundle
// went from 737 KB to 290 KB, 5 MiB less resident on Node 22: BENCHMARKS.md "Runner idle memory").
// The schemas live in protocol/, one module per kind of message; this module is their index.

export * from "./protocol/completions.ts";
export * from "./protocol/errors.ts";
export * from "./protocol/exec-spec.ts";
export * from "./protocol/fleet.ts";
export * from "./protocol/leases.ts";
export * from "./protocol/logs.ts";
export * from "./protocol/run-api.ts";
export * from "./protocol/socket.ts";
