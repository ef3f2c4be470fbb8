// /services/scheduler and /services/coordinator, in the contract's shapes, describing what plays
// those parts at the edge. There is no scheduler process: each scheduled DAG's ScheduleObject
// alarm is its clock, always on while the Worker is deployed. The coordinator, which hands work
// to workers, is the dispatcher Durable Object, reached through this Worker's own address.
// /services/resources/history answers Dagu's shape with what can honestly be reported: nothing.
// The Worker has no host of its own to measure, and runners do not report their host's CPU,
// memory, disk or load, so every series is empty (see the README).
import { Hono } from "hono";
import { z } from "zod";
import { db, scheduleTotals } from "../db/queries";
import type { Env } from "../env";
import { dagu } from "../openapi/route-docs";
import { iso } from "./present/run-summary";
import { isolateStartedAt } from "./system";
import { query } from "./validate";

/** Go's duration syntax, which Dagu's `duration` takes: `30m`, `1h`, `1h30m`, `90s`. */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

const HistoryQuery = z.object({
  duration: z
    .string()
    .regex(GO_DURATION, "must be a duration such as 30m, 1h or 1h30m")
    .optional()
    .describe("How far back; accepted and checked, though every series is empty."),
});

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
  .get(
    "/resources/history",
    dagu("getResourceHistory", {
      description:
        "dagflare: every series is empty. The Worker has no host of its own, and runners do not report their host's resources.",
    }),
    query(HistoryQuery),
    (c) => c.json({ cpu: [], memory: [], disk: [], load: [] }),
  )
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
