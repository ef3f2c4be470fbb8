// /runners: the runner protocol (docs/runner-protocol.md). Leases come from the dispatcher; every
// call about a lease goes straight to the run's RunObject, named in the lease id. A runner token
// leases, registers and reports only in its own pools, and only under runner ids it reports.
// The same calls also travel over a runner's socket (GET /runners/socket, src/dispatch/runner-socket.ts).
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { RunnerVars } from "../auth";
import { completeMany } from "../dispatch/completions";
import { idInUse, type LeaseAction, type LeaseCallHooks, leaseCall, runnerPool } from "../dispatch/lease-calls";
import { longPollLeases } from "../dispatch/long-poll";
import { RUNNER_SOCKET_HEADER, RunnerSocketQuery } from "../dispatch/runner-socket";
import { AppError } from "../errors";
import { runnerDocs } from "../openapi/runner-protocol";
import { runnerSocketDoc } from "../openapi/runner-socket";
import { LeaseRequest, type LeaseResponse, RunnerHeartbeatRequest } from "../shared/protocol";
import { DEFAULT_POOL, poolOf } from "../shared/selector";
import { dispatcherFor } from "../stubs";
import { readJson, readQuery } from "./validate";

function poolOfRunner(c: Context<RunnerVars>, labels: Record<string, string>): string {
  return runnerPool(labels, c.get("runnerAuth"));
}

export const runners = new Hono<RunnerVars>()
  .post("/lease", runnerDocs.lease, async (c) => {
    const askedAt = Date.now();
    const { waitMs, ...ask } = await readJson(c, LeaseRequest);
    const pool = poolOfRunner(c, ask.labels);
    const auth = c.get("runnerAuth");
    if (await dispatcherFor(c.env, pool).isOthersRunner(ask.runnerId, auth.tokenId, askedAt)) {
      throw idInUse(ask.runnerId);
    }
    const leases = await longPollLeases(c.env, { ...ask, askedAt }, waitMs, auth.recheck);
    return c.json({ leases } satisfies LeaseResponse);
  })
  .get("/socket", runnerSocketDoc, async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError("bad_request", 426, "this endpoint takes a WebSocket upgrade (Upgrade: websocket)");
    }
    const { runnerId, labels } = readQuery(c, RunnerSocketQuery);
    const pool = poolOfRunner(c, labels);
    const { tokenId, pools } = c.get("runnerAuth");
    if (await dispatcherFor(c.env, pool).isOthersRunner(runnerId, tokenId, Date.now())) throw idInUse(runnerId);
    // The pool's dispatcher holds the socket; it trusts what the Worker checked, passed in a header.
    const headers = new Headers(c.req.raw.headers);
    headers.set(RUNNER_SOCKET_HEADER, JSON.stringify({ runnerId, labels, tokenId, pools }));
    return dispatcherFor(c.env, pool).fetch(new Request(c.req.raw, { headers }));
  })
  .post("/heartbeat", runnerDocs.heartbeat, async (c) => {
    const req = await readJson(c, RunnerHeartbeatRequest);
    const pool = poolOfRunner(c, req.labels);
    const { tokenId } = c.get("runnerAuth");
    const seen = await dispatcherFor(c.env, pool).runnerReport({ ...req, lastSeenAt: Date.now() }, tokenId);
    if (seen === "taken") throw idInUse(req.runnerId);
    // GET /workers lists the pools the default pool's dispatcher knows of.
    if (seen === "new" && pool !== DEFAULT_POOL) await dispatcherFor(c.env).addPool(pool);
    return c.json({});
  })
  // One route per call, so the OpenAPI document and the roles table name each one; each route's
  // first middleware describes it in the document (openapi/runner-protocol.ts).
  .post("/leases/:leaseId/heartbeat", runnerDocs.leaseHeartbeat, (c) => leaseRoute(c, "heartbeat"))
  .post("/leases/:leaseId/logs", runnerDocs.logs, (c) => leaseRoute(c, "logs"))
  .post("/leases/:leaseId/complete", runnerDocs.complete, (c) => leaseRoute(c, "complete"))
  .post("/leases/:leaseId/release", runnerDocs.release, (c) => leaseRoute(c, "release"))
  // Several completions of one runner in one call (src/dispatch/completions.ts).
  .post("/completions", runnerDocs.completions, async (c) =>
    c.json(await completeMany(c.env, await readJson(c, z.unknown()), hooksOf(c))),
  );

/** A call about a lease, the same as over the runner's socket (src/dispatch/lease-calls.ts). */
async function leaseRoute(c: Context<RunnerVars>, action: LeaseAction): Promise<Response> {
  const body = await readJson(c, z.unknown());
  const reply = await leaseCall(c.env, action, c.req.param("leaseId") ?? "", body, hooksOf(c));
  return c.json(reply);
}

/** Over HTTP a completion's next leases come from its run, or else from the pool's dispatcher. */
function hooksOf(c: Context<RunnerVars>): LeaseCallHooks {
  return {
    checkPool: (labels) => poolOfRunner(c, labels),
    takeNext: (next) => dispatcherFor(c.env, poolOf(next.labels)).take({ ...next, askedAt: Date.now() }),
  };
}
