// The runner protocol: zod schemas shared by the Worker (src/routes/runners.ts) and the
// runner (runner/src). Schema and type carry one name. See docs/runner-protocol.md.
// They are written with `zod/mini`, zod's functional form (`z.optional(s)` for `s.optional()`),
// imported as a namespace: the runner's bundler keeps only the functions these schemas call, and
// each schema object is a plain instance instead of one carrying some fifty methods of its own
// (classic zod attaches them to every schema it makes). The runner carries no classic zod at all:
// its bundle went from 315 KB to 217 KB and an idle runner holds 2.5 MiB less on Node 22
// (BENCHMARKS.md "Runner idle memory with zod/mini"). The Worker mixes them with its classic
// schemas freely (both are zod's core types); what takes a schema there takes `z.core.$ZodType`
// and parses with `z.safeParse(schema, value)`. Without classic zod loaded, zod/mini's issues
// say only "Invalid input": the runner reads just success or failure; the Worker loads classic
// zod, whose English messages then serve both.
// The schemas live in protocol/, one module per kind of message; this module is their index.

export * from "./protocol/completions.ts";
export * from "./protocol/errors.ts";
export * from "./protocol/exec-spec.ts";
export * from "./protocol/fleet.ts";
export * from "./protocol/leases.ts";
export * from "./protocol/logs.ts";
export * from "./protocol/run-api.ts";
export * from "./protocol/socket.ts";
