// The runner protocol's lease calls on a run: dispatches taken by a runner's request turned into
// leases (`claimMany`), heartbeats, and a lease given back. Refusals are data (lease-errors.ts).
import { type Outcome, ok } from "../../errors";
import type { Lease } from "../../shared/protocol";
import { staleFrom, staleLease } from "./lease-errors";
import { claimEvent } from "./lease-grant";
import type { Claim } from "./rpc";
import type { RunCore } from "./run-core";

/**
 * Turns several dispatches of this run into leases for one runner, in one storage
 * transaction; stale ones are left out.
 */
export async function claimMany(run: RunCore, claims: Claim[], runnerId: string): Promise<Lease[]> {
  if (!run.state) return [];
  // A step this run does not have gets no lease, like any stale dispatch.
  const [first, ...rest] = claims.flatMap(
    (c) => claimEvent(run.init, run.machine, c.step, c.dispatchSeq, runnerId) ?? [],
  );
  if (!first) return [];
  const { granted } = await run.fire(first, Date.now(), { also: rest });
  return granted;
}

export async function heartbeat(
  run: RunCore,
  stepIndex: number,
  token: string,
): Promise<Outcome<{ cancel: boolean; ttlMs: number }>> {
  const step = run.stepAt(stepIndex);
  if (!step || !run.init) return staleLease("unknown lease");
  const { reply } = await run.fire({ type: "heartbeat", step, token });
  if (reply.kind !== "heartbeat") return staleFrom(reply);
  return ok({ cancel: reply.cancel, ttlMs: run.init.leaseTtlMs });
}

export async function release(run: RunCore, stepIndex: number, token: string, reason: string): Promise<Outcome<void>> {
  const step = run.stepAt(stepIndex);
  if (!step) return staleLease("unknown lease");
  const { reply } = await run.fire({ type: "release", step, token, reason });
  if (reply.kind === "stale") return staleFrom(reply);
  return ok(undefined);
}
