// /dag-runs/{name}/{dagRunId}/log, .../steps/{stepName}/log and .../live: what a user watches of a
// run. The log text and the live socket are the run's RunObject's; these routes find the run and
// hand the request on. Sub-DAG runs are watched the same way (sub-dag-runs.ts).
import { type Context, Hono } from "hono";
import type { z } from "zod";
import type { DagRunRow } from "../db/schema";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { liveDocs } from "../openapi/live";
import { dagu } from "../openapi/route-docs";
import { sliceLog } from "../run/log-slice";
import { runStub } from "../stubs";
import { findRun } from "./find-run";
import { STEP_LOG, windowQuery } from "./run-queries";
import { query } from "./validate";

type Ctx = Context<{ Bindings: Env }>;

export const runLogs = new Hono<{ Bindings: Env }>()
  .get("/:name/:dagRunId/live", liveDocs(false), async (c) => {
    requireUpgrade(c);
    return openLive(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")));
  })
  .get("/:name/:dagRunId/log", dagu("getDAGRunLog"), query(windowQuery), async (c) =>
    runLog(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")), c.req.valid("query")),
  )
  .get("/:name/:dagRunId/steps/:stepName/log", dagu("getDAGRunStepLog", STEP_LOG), query(windowQuery), async (c) =>
    stepLog(c, await findRun(c.env, c.req.param("name"), c.req.param("dagRunId")), c.req.valid("query")),
  );

/** The live socket is a WebSocket only (docs/live.md). */
export function requireUpgrade(c: Ctx): void {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new AppError("bad_request", 426, "this endpoint is a WebSocket: send Upgrade: websocket", {
      field: "Upgrade",
    });
  }
}

/** Hands the upgrade to the run's RunObject, which keeps the socket (src/live/live-run.ts). */
export function openLive(c: Ctx, row: DagRunRow): Promise<Response> {
  const url = new URL("https://run.internal/live");
  // A renamed DAG's runs are listed under the new name; the socket shows them so too.
  url.searchParams.set("dagName", row.dagName);
  return runStub(c.env, row.runId).fetch(new Request(url, c.req.raw));
}

export async function runLog(c: Ctx, row: DagRunRow, q: z.infer<typeof windowQuery>) {
  const text = unwrap(await runStub(c.env, row.runId).runLog());
  return c.json(sliceLog(text, q));
}

export async function stepLog(c: Ctx, row: DagRunRow, q: z.infer<typeof windowQuery>) {
  const { stream, attempt, ...window } = q;
  return c.json(
    unwrap(await runStub(c.env, row.runId).stepLog(c.req.param("stepName") ?? "", stream, window, attempt)),
  );
}
