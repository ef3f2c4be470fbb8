// Wiring only: the Worker export and the Durable Object classes.
import { app } from "./app";
import type { Env } from "./env";
import { rearmSchedules } from "./schedule/safety-net";

export { DispatchObject } from "./dispatch/dispatch-object";
export { QueueObject } from "./queue/queue-object";
export { RunObject } from "./run/run-object";
export { ScheduleObject } from "./schedule/schedule-object";

export default {
  fetch: app.fetch,
  scheduled: async (_controller, env, ctx) => {
    ctx.waitUntil(rearmSchedules(env));
  },
} satisfies ExportedHandler<Env>;
