// /services/scheduler and /services/coordinator, in the contract's shapes, describing what plays
// those parts at the edge. There is no scheduler process: each scheduled DAG's ScheduleObject
// alarm is its clock, always on while the Worker is deployed. The coordinator, which hands work
// to workers, is the dispatcher Durable Object, reached through this Worker's own address.
import { Hono } from "hono";
import { db, scheduleTotals } from "../db/queries";
import type { Env } from "../env";
import { dagu } from "../openapi/route-docs";
import { iso } from "./present";
import { isolateStartedAt } from "./system";

export const services = new Hono<{ Bindings: Env }>()
  .get("/scheduler", dagu("getSchedulerStatus"), async (c) => {
    const t = await scheduleTotals(db(c.env.DB));
    return c.json({
      schedulers: [
        {
          instanceId: "schedule-objects",
          host: new URL(c.req.url).hostname,
          status: "active" as const,
          startedAt: iso(isolateStartedAt()),
          // dagflare's additions: what the scheduler is, and what it holds.
          kind: "durable-object-alarms",
          description: "one Durable Object alarm per scheduled DAG, armed for its next cron tick",
          scheduledDags: t.armed,
          suspendedDags: t.suspended,
          ...(t.nextRunAt !== null && { nextRun: iso(t.nextRunAt) }),
        },
      ],
    });
  })
  .get("/coordinator", dagu("getCoordinatorStatus"), (c) => {
    const url = new URL(c.req.url);
    return c.json({
      coordinators: [
        {
          instanceId: "dispatch-default",
          host: url.hostname,
          status: "active" as const,
          startedAt: iso(isolateStartedAt()),
          port: url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80,
          // dagflare's additions: runners reach it over HTTP at the runner protocol's prefix.
          kind: "durable-object-dispatcher",
          description: "runners long-poll /api/v2/runners/lease; see GET /workers for the fleet",
        },
      ],
    });
  });
