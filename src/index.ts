// Wiring only: the Worker export and the Durable Object classes.
import { app } from "./app";
import type { Env } from "./env";

export { DispatchObject } from "./dispatch/dispatch-object";
export { RunObject } from "./run/run-object";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
