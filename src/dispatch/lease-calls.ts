// The calls a runner makes about a lease it holds (heartbeat, logs, complete, release), the same
// over HTTP (src/routes/runners.ts) and over its socket (runner-socket.ts): validated here, then
// sent straight to the run's RunObject, named in the lease id. Errors are AppErrors.
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { MAX_OUTPUT_BYTES, showBytes, utf8Bytes } from "../limits";
import { parseBody } from "../parse-input";
import type { Claim } from "../run/object/rpc";
import { parseLeaseId } from "../shared/lease-id";
import {
  CompleteRequest,
  type CompleteResponse,
  HeartbeatRequest,
  type HeartbeatResponse,
  type Lease,
  LogAppendRequest,
  type LogAppendResponse,
  MAX_LOG_BATCH_BYTES,
  type NextAsk,
  ReleaseRequest,
} from "../shared/protocol";
import { POOL_NAME, poolOf } from "../shared/selector";
import { runStub } from "../stubs";
import type { Along } from "./take-along";

export type LeaseAction = "heartbeat" | "logs" | "complete" | "release";
export const LEASE_ACTIONS: readonly LeaseAction[] = ["heartbeat", "logs", "complete", "release"];

export interface LeaseCallHooks {
  /** Checks the pool of a completion's `next` ask against the caller's token (throws 403). */
  checkPool: (labels: Record<string, string>) => void;
  /** Leases for a completion whose run had no ready step for the runner: any ready step. */
  takeNext: (next: NextAsk) => Promise<Lease[]>;
  /**
   * Where the pool's queue is at hand (the runner's socket): the tasks `next` would get, taken
   * before the completion goes to its run, so that its run claims its own in the same
   * transaction (take-along.ts). Replaces `takeNext`.
   */
  takeAlong?: (runId: string, next: NextAsk) => Along;
}

/**
 * The runner's pool, from its `pool` label: a malformed one, or one its token does not serve,
 * is refused.
 */
export function runnerPool(labels: Record<string, string>, auth: { tokenId: string; pools: string[] | "all" }): string {
  const pool = poolOf(labels);
  if (!POOL_NAME.test(pool)) {
    throw new AppError("bad_request", 400, `pool "${pool}" must be 1-64 letters, digits, _ or -`, {
      fields: ["labels.pool"],
    });
  }
  if (auth.pools !== "all" && !auth.pools.includes(pool)) {
    throw new AppError(
      "forbidden",
      403,
      `runner token ${auth.tokenId} serves the pools ${auth.pools.join(", ")}, not "${pool}"`,
      { fields: ["labels.pool"], tokenId: auth.tokenId },
    );
  }
  return pool;
}

/** A runner id in use by a live runner of another token. */
export function idInUse(runnerId: string): AppError {
  return new AppError(
    "already_exists",
    409,
    `runner id "${runnerId}" belongs to a live runner that reports with another token`,
    { fields: ["runnerId"] },
  );
}

/** The run and step a lease id names; a malformed one is a lease nobody has. */
export function leaseOf(leaseId: string): { runId: string; stepIndex: number } {
  const parts = parseLeaseId(leaseId);
  if (!parts) throw new AppError("not_found", 404, `unknown lease ${leaseId}`);
  return parts;
}

/** The exec spec bounds what a runner captures; more would not fit later steps' environment. */
export function checkOutput(outcome: { output?: string }): void {
  const outputBytes = utf8Bytes(outcome.output ?? "");
  if (outputBytes > MAX_OUTPUT_BYTES) {
    throw new AppError(
      "bad_request",
      413,
      `output of ${outputBytes} bytes is over the limit of ${showBytes(MAX_OUTPUT_BYTES)} for an output`,
      { field: "output" },
    );
  }
}

/** One call about lease `leaseId`, with its parsed JSON body; answers the reply body. */
export async function leaseCall(
  env: Env,
  action: LeaseAction,
  leaseId: string,
  body: unknown,
  hooks: LeaseCallHooks,
): Promise<HeartbeatResponse | LogAppendResponse | CompleteResponse | Record<string, never>> {
  const { runId, stepIndex } = leaseOf(leaseId);
  const run = runStub(env, runId);
  switch (action) {
    case "heartbeat": {
      const req = parseBody(HeartbeatRequest, body);
      return unwrap(await run.heartbeat(stepIndex, req.token));
    }
    case "logs": {
      const req = parseBody(LogAppendRequest, body);
      const bytes = req.entries.reduce((n, e) => n + utf8Bytes(e.text), 0);
      if (bytes > MAX_LOG_BATCH_BYTES) {
        throw new AppError("bad_request", 413, `log batch of ${bytes} bytes is over the ${MAX_LOG_BATCH_BYTES} limit`);
      }
      const seqs = req.entries.map((e) => e.seq);
      if (seqs.some((s, i) => i > 0 && s <= (seqs[i - 1] ?? 0))) {
        throw new AppError("bad_request", 400, "log entries must be in increasing seq order", { field: "entries" });
      }
      return unwrap(await run.appendLogs(stepIndex, req.token, req.entries));
    }
    case "complete": {
      const req = parseBody(CompleteRequest, body);
      const { token, next, lastLogSeq: _seq, droppedLogBytes, outputTruncated: _cut, ...outcome } = req;
      if (next) hooks.checkPool(next.labels);
      checkOutput(outcome);
      const along = next && hooks.takeAlong?.(runId, next);
      let done: { accepted: boolean; next: Lease[]; untried: Claim[] };
      try {
        done = unwrap(await run.complete(stepIndex, { token, outcome, droppedLogBytes }, next, along?.claims));
      } catch (err) {
        // Refused (or the run could not be reached): the tasks taken along go back.
        await along?.settle([], "all");
        throw err;
      }
      if (along) return { accepted: done.accepted, next: await along.settle(done.next, done.untried) };
      // The runner's next lease rides on this reply: a step this one made ready (leased in the
      // run's own transaction), or else any ready step. A chain costs one round trip per step.
      const leases = next && done.next.length === 0 ? await hooks.takeNext(next) : done.next;
      return { accepted: done.accepted, next: leases };
    }
    case "release": {
      const req = parseBody(ReleaseRequest, body);
      unwrap(await run.release(stepIndex, req.token, req.reason));
      return {};
    }
  }
}
