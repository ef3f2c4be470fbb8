// /runners: the runner protocol (docs/runner-protocol.md). Leases come from the dispatcher; every
// call about a lease goes straight to the run's RunObject, named in the lease id. A runner token
// leases, registers and reports only in its own pools, and only under runner ids it reports.
import { type Context, Hono } from "hono";
import type { RunnerVars } from "../auth";
import { dispatcherFor, longPollLeases } from "../dispatch/dispatch-object";
import { AppError, unwrap } from "../errors";
import { MAX_OUTPUT_BYTES, showBytes, utf8Bytes } from "../limits";
import { runStub } from "../run/start-run";
import { parseLeaseId } from "../shared/lease-id";
import {
  CompleteRequest,
  type CompleteResponse,
  HeartbeatRequest,
  type HeartbeatResponse,
  LeaseRequest,
  type LeaseResponse,
  LogAppendRequest,
  type LogAppendResponse,
  MAX_LOG_BATCH_BYTES,
  ReleaseRequest,
  RunnerHeartbeatRequest,
} from "../shared/protocol";
import { DEFAULT_POOL, POOL_NAME, poolOf } from "../shared/selector";
import { readJson } from "./validate";

/** The run and step a lease id names; a malformed one is a lease nobody has. */
function leaseOf(leaseId: string): { runId: string; stepIndex: number } {
  const parts = parseLeaseId(leaseId);
  if (!parts) throw new AppError("not_found", 404, `unknown lease ${leaseId}`);
  return parts;
}

/** The runner's pool, from its `pool` label: a malformed one, or one its token does not serve, is refused. */
function poolOfRunner(c: Context<RunnerVars>, labels: Record<string, string>): string {
  const pool = poolOf(labels);
  if (!POOL_NAME.test(pool)) {
    throw new AppError("bad_request", 400, `pool "${pool}" must be 1-64 letters, digits, _ or -`, {
      fields: ["labels.pool"],
    });
  }
  const { tokenId, pools } = c.get("runnerAuth");
  if (pools !== "all" && !pools.includes(pool)) {
    throw new AppError(
      "forbidden",
      403,
      `runner token ${tokenId} serves the pools ${pools.join(", ")}, not "${pool}"`,
      { fields: ["labels.pool"], tokenId },
    );
  }
  return pool;
}

function idInUse(runnerId: string): AppError {
  return new AppError(
    "already_exists",
    409,
    `runner id "${runnerId}" belongs to a live runner that reports with another token`,
    { fields: ["runnerId"] },
  );
}

export const runners = new Hono<RunnerVars>()
  .post("/lease", async (c) => {
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
  .post("/heartbeat", async (c) => {
    const req = await readJson(c, RunnerHeartbeatRequest);
    const pool = poolOfRunner(c, req.labels);
    const { tokenId } = c.get("runnerAuth");
    const seen = await dispatcherFor(c.env, pool).runnerReport({ ...req, lastSeenAt: Date.now() }, tokenId);
    if (seen === "taken") throw idInUse(req.runnerId);
    // GET /workers lists the pools the default pool's dispatcher knows of.
    if (seen === "new" && pool !== DEFAULT_POOL) await dispatcherFor(c.env).addPool(pool);
    return c.json({});
  })
  .post("/leases/:leaseId/heartbeat", async (c) => {
    const { runId, stepIndex } = leaseOf(c.req.param("leaseId"));
    const req = await readJson(c, HeartbeatRequest);
    const res = unwrap(await runStub(c.env, runId).heartbeat(stepIndex, req.token));
    return c.json(res satisfies HeartbeatResponse);
  })
  .post("/leases/:leaseId/logs", async (c) => {
    const { runId, stepIndex } = leaseOf(c.req.param("leaseId"));
    const req = await readJson(c, LogAppendRequest);
    const bytes = req.entries.reduce((n, e) => n + utf8Bytes(e.text), 0);
    if (bytes > MAX_LOG_BATCH_BYTES) {
      throw new AppError("bad_request", 413, `log batch of ${bytes} bytes is over the ${MAX_LOG_BATCH_BYTES} limit`);
    }
    const seqs = req.entries.map((e) => e.seq);
    if (seqs.some((s, i) => i > 0 && s <= (seqs[i - 1] ?? 0))) {
      throw new AppError("bad_request", 400, "log entries must be in increasing seq order", { field: "entries" });
    }
    const res = unwrap(await runStub(c.env, runId).appendLogs(stepIndex, req.token, req.entries));
    return c.json(res satisfies LogAppendResponse);
  })
  .post("/leases/:leaseId/complete", async (c) => {
    const { runId, stepIndex } = leaseOf(c.req.param("leaseId"));
    const req = await readJson(c, CompleteRequest);
    const { token, next, lastLogSeq: _seq, droppedLogBytes, outputTruncated: _cut, ...outcome } = req;
    if (next) poolOfRunner(c, next.labels);
    // The exec spec bounds what a runner captures; more would not fit later steps' environment.
    const outputBytes = utf8Bytes(outcome.output ?? "");
    if (outputBytes > MAX_OUTPUT_BYTES) {
      throw new AppError(
        "bad_request",
        413,
        `output of ${outputBytes} bytes is over the limit of ${showBytes(MAX_OUTPUT_BYTES)} for an output`,
        { field: "output" },
      );
    }
    const done = unwrap(await runStub(c.env, runId).complete(stepIndex, { token, outcome, droppedLogBytes }, next));
    // The runner's next lease rides on this reply: a step this one made ready (leased in the
    // run's own transaction), or else any ready step. A chain costs one round trip per step.
    const leases =
      next && done.next.length === 0
        ? await dispatcherFor(c.env, poolOf(next.labels)).take({ ...next, askedAt: Date.now() })
        : done.next;
    return c.json({ accepted: done.accepted, next: leases } satisfies CompleteResponse);
  })
  .post("/leases/:leaseId/release", async (c) => {
    const { runId, stepIndex } = leaseOf(c.req.param("leaseId"));
    const req = await readJson(c, ReleaseRequest);
    unwrap(await runStub(c.env, runId).release(stepIndex, req.token, req.reason));
    return c.json({});
  });
