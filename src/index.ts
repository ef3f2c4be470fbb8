// Wiring only: the Worker export and the Durable Object classes.
import { app } from "./app";
import { counted, countedEnv } from "./call-counts";
import { DispatchObject as Dispatch } from "./dispatch/dispatch-object";
import type { Env } from "./env";
import { MailObject as Mail } from "./mail/mail-object";
import { QueueObject as Queue } from "./queue/queue-object";
import { RunObject as Run } from "./run/run-object";
import { rearmSchedules } from "./schedule/safety-net";
import { ScheduleObject as Schedule } from "./schedule/schedule-object";
import { WebhookObject as Webhook } from "./webhooks/webhook-object";

// The classes behind Env's namespaces, for typed stubs (see `DurableObjectClasses` in src/env.ts).
declare module "./env" {
  interface DurableObjectClasses {
    DispatchObject: Dispatch;
    MailObject: Mail;
    QueueObject: Queue;
    RunObject: Run;
    ScheduleObject: Schedule;
    WebhookObject: Webhook;
  }
}

// With DAGFLARE_CALL_COUNTS=on every binding counts its calls (src/call-counts.ts); off, as is.
// Each class is named here: the bundle keeps no function names (wrangler.toml, keep_names).
export const DispatchObject = counted(Dispatch, "DispatchObject");
export const MailObject = counted(Mail, "MailObject");
export const QueueObject = counted(Queue, "QueueObject");
export const RunObject = counted(Run, "RunObject");
export const ScheduleObject = counted(Schedule, "ScheduleObject");
export const WebhookObject = counted(Webhook, "WebhookObject");

export default {
  fetch: (req, env, ctx) => app.fetch(req, countedEnv(env), ctx),
  scheduled: async (_controller, env, ctx) => {
    ctx.waitUntil(rearmSchedules(countedEnv(env)));
  },
} satisfies ExportedHandler<Env>;
