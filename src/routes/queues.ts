// /queues: what admission is doing (Dagu's QueuesResponse) and, as dagflare's additions, the
// configuration of named queues (there is no config file at the edge) and purging a queue.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { QUEUE_NAME } from "../dag/run-policy";
import type { DagDef } from "../dag/types";
import { activeRuns, db, listDags } from "../db/queries";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { dagflare, dagu, emptyResponse, errorResponse, jsonResponse } from "../openapi/route-docs";
import { DEFAULT_QUEUE_CONCURRENCY } from "../queue/queue-object";
import { actedBy, recordRunAction } from "../run-actions";
import { admission, runStub } from "../stubs";
import { presentSummaryFromRow } from "./present/run-summary";
import { json, param, pathSegment } from "./validate";

export const QueueConfigRequest = z.object({ maxConcurrency: z.number().int().min(1).max(10_000) });
export const QueueConfigResponse = z.object({ name: z.string(), maxConcurrency: z.number().int() });
export const PurgeResponse = z.object({
  /** How many queued runs were taken out of the queue (each ends as aborted). */
  purged: z.number().int(),
  dagRunIds: z.array(z.string()),
});

const QueueNameParam = z.object({
  name: pathSegment(QUEUE_NAME, (v) => `invalid queue name "${v}": use letters, digits, _ and - (at most 64)`),
});

/**
 * Stops runs that were taken out of line, so each ends as aborted instead of waiting forever, and
 * records on each who took it out and how (`dequeue`: that run, `purge`: its whole queue).
 */
export async function abortDequeued(
  c: Context<{ Bindings: Env }>,
  runIds: string[],
  action: "dequeue" | "purge",
): Promise<void> {
  for (const runId of runIds) {
    unwrap(await runStub(c.env, runId).stop());
    await recordRunAction(c.env, { runId, action, by: actedBy(c) });
  }
}

export const queues = new Hono<{ Bindings: Env }>()
  .get("/", dagu("listQueues"), async (c) => {
    const d = db(c.env.DB);
    const [runs, dagRows, configs] = await Promise.all([activeRuns(d), listDags(d), admission(c.env).queueConfigs()]);
    const limitOf = new Map(
      dagRows.map((r) => [r.name, (JSON.parse(r.parsed ?? "null") as DagDef | null)?.maxActiveRuns]),
    );
    const byQueue = new Map<string, { type: "global" | "dag-based"; max?: number; runs: DagRunRow[] }>();
    for (const cfg of configs) byQueue.set(cfg.name, { type: "global", max: cfg.maxConcurrency, runs: [] });
    for (const r of runs) {
      const name = r.queue ?? r.dagName;
      let q = byQueue.get(name);
      if (!q) {
        q = r.queue
          ? { type: "global", max: DEFAULT_QUEUE_CONCURRENCY, runs: [] }
          : { type: "dag-based", max: limitOf.get(r.dagName), runs: [] };
        byQueue.set(name, q);
      }
      q.runs.push(r);
    }
    const why = await admission(c.env).why(runs.filter((r) => r.status === "queued").map((r) => r.runId));
    const list = [...byQueue.entries()].map(([name, q]) => ({
      name,
      type: q.type,
      ...(q.max !== undefined && { maxConcurrency: q.max }),
      // A run waiting for an approval holds its slot: it is listed as running.
      running: q.runs.filter((r) => r.status !== "queued").map(presentSummaryFromRow),
      // dagflare's addition on each: `waitingFor`, why it has not started.
      queued: q.runs
        .filter((r) => r.status === "queued")
        .map((r) => ({ ...presentSummaryFromRow(r), ...(why[r.runId] && { waitingFor: why[r.runId] }) })),
    }));
    const totalRunning = list.reduce((n, q) => n + q.running.length, 0);
    const totalCapacity = list.reduce((n, q) => n + (q.maxConcurrency ?? 0), 0);
    return c.json({
      queues: list,
      summary: {
        totalQueues: list.length,
        totalRunning,
        totalQueued: list.reduce((n, q) => n + q.queued.length, 0),
        totalCapacity,
        utilizationPercentage: totalCapacity ? Math.min(100, (totalRunning / totalCapacity) * 100) : 0,
      },
    });
  })
  .put(
    "/:name",
    dagflare({
      summary: "Create or change a named queue's maxConcurrency (runs waiting in it may start)",
      tags: ["queues"],
      responses: {
        "200": jsonResponse("The queue as configured", QueueConfigResponse),
        default: errorResponse("Error"),
      },
    }),
    param(QueueNameParam),
    json(QueueConfigRequest),
    async (c) => {
      const { name } = c.req.valid("param");
      const { maxConcurrency } = c.req.valid("json");
      return c.json(await admission(c.env).setQueue({ name, maxConcurrency }));
    },
  )
  .delete(
    "/:name",
    dagflare({
      summary: "Forget a named queue's configuration (it falls back to maxConcurrency 1)",
      tags: ["queues"],
      responses: { "204": emptyResponse("Removed"), "404": errorResponse("Not configured") },
    }),
    param(QueueNameParam),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await admission(c.env).deleteQueue(name))) {
        throw new AppError("not_found", 404, `queue ${name} is not configured`);
      }
      return c.body(null, 204);
    },
  )
  .post(
    "/:name/purge",
    dagflare({
      summary: "Take every waiting run out of a queue (a named queue or a DAG's own); each ends aborted",
      tags: ["queues"],
      responses: { "200": jsonResponse("What was purged", PurgeResponse), default: errorResponse("Error") },
    }),
    param(QueueNameParam),
    async (c) => {
      const { name } = c.req.valid("param");
      const ids = await admission(c.env).purge(name);
      await abortDequeued(c, ids, "purge");
      return c.json({ purged: ids.length, dagRunIds: ids } satisfies z.infer<typeof PurgeResponse>);
    },
  );
