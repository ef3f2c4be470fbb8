// Leases: a runner claims a dispatched step, confirms and renews its lease with heartbeats,
// releases it, or goes silent and loses it. PURE.
import type { Draft } from "./draft";
import { leaseOf } from "./phase";
import { timerKey } from "./timers";
import {
  CONFIRM_WITHIN_MS,
  type EventOf,
  MAX_LOST_ATTEMPTS,
  type Reply,
  type StepLease,
  TIMEOUT_GRACE_MS,
} from "./types";

/** The step's lease if `token` is its current one. */
export function currentLease(d: Draft, name: string, token: string): StepLease | undefined {
  const lease = leaseOf(d.step(name));
  return lease?.token === token ? lease : undefined;
}

export function onClaim(d: Draft, e: EventOf<"claim">): Reply {
  const s = d.step(e.step);
  // Under a stop only the running handler (onCancel, onExit) may still be claimed.
  const stopped = d.state.stopRequested && d.state.handlers?.queue[0] !== e.step;
  if (s.phase.kind !== "queued" || s.dispatchSeq !== e.dispatchSeq || stopped) {
    return { kind: "stale", reason: "this dispatch is no longer wanted" };
  }
  const attempt = s.attempt + 1;
  const expiresAt = d.now + Math.min(d.ctx.leaseTtlMs, CONFIRM_WITHIN_MS);
  const lease = { leaseId: e.leaseId, token: e.token, runnerId: e.runnerId, expiresAt, cancelRequested: false };
  d.move(
    e.step,
    { kind: "leased", lease },
    { attempt, startedAt: d.now, finishedAt: undefined, exitCode: undefined, error: undefined },
  );
  d.setTimer(timerKey.lease(e.step), expiresAt);
  const timeoutSec = d.def(e.step).timeoutSec;
  if (timeoutSec) {
    // The runner reports a timeout once the group is gone: after the DAG's clean-up time.
    const graceMs = TIMEOUT_GRACE_MS + (d.ctx.dag.maxCleanUpTimeSec ?? 0) * 1000;
    d.setTimer(timerKey.timeout(e.step), d.now + timeoutSec * 1000 + graceMs);
  }
  d.log(`step ${e.step} attempt ${attempt} leased to runner ${e.runnerId}`);
  return { kind: "claimed", attempt };
}

export function onHeartbeat(d: Draft, e: EventOf<"heartbeat">): Reply {
  const lease = currentLease(d, e.step, e.token);
  if (!lease) return { kind: "stale", reason: "lease is no longer current" };
  const expiresAt = d.now + d.ctx.leaseTtlMs;
  // The first heartbeat confirms the runner started the attempt: from now on it is the step's runner.
  d.move(e.step, { kind: "running", lease: { ...lease, expiresAt } }, { runnerId: lease.runnerId });
  d.setTimer(timerKey.lease(e.step), expiresAt);
  return { kind: "heartbeat", cancel: lease.cancelRequested };
}

export function onRelease(d: Draft, e: EventOf<"release">): Reply {
  const lease = currentLease(d, e.step, e.token);
  if (!lease) return { kind: "stale", reason: "lease is no longer current" };
  d.clearStepTimers(e.step);
  if (lease.cancelRequested) {
    d.finish(e.step, "aborted", "stopped");
  } else {
    d.log(`step ${e.step} released by runner ${lease.runnerId} (${e.reason}); dispatching again`);
    // A released attempt did not run to an outcome: it does not count as an attempt.
    giveBackAttempt(d, e.step);
    d.ready.push(e.step);
  }
  return { kind: "none" };
}

/** The lease timer came due and the lease was not renewed: its runner is gone. */
export function leaseExpired(d: Draft, name: string, lease: StepLease): void {
  const s = d.step(name);
  const confirmed = s.phase.kind === "running";
  d.clearStepTimers(name);
  d.effects.push({ type: "runnerLost", runnerId: lease.runnerId, at: d.now });
  if (lease.cancelRequested) {
    d.finish(name, "aborted", "stopped (runner did not confirm)");
    return;
  }
  if (!confirmed) {
    // The runner never called about this lease: it did not start the step, or (a chain successor
    // it started early, docs/runner.md) was cut off before it could say so; not an attempt.
    d.log(`step ${name}: runner ${lease.runnerId} never confirmed its lease; dispatching again`);
    giveBackAttempt(d, name);
    d.ready.push(name);
    return;
  }
  const lostCount = s.lostCount + 1;
  d.update(name, { lostCount });
  if (lostCount >= MAX_LOST_ATTEMPTS) {
    d.finish(name, "failed", `lost its runner ${lostCount} times (last: ${lease.runnerId})`);
    return;
  }
  d.log(`step ${name}: lease of runner ${lease.runnerId} expired; dispatching again (lost ${lostCount})`);
  d.ready.push(name);
}

/**
 * The step's attempt does not count: its number goes to the next lease, which starts that
 * attempt's log afresh. Cleared here, where a number is given back, so that a claim, which
 * cannot tell a number used before, never has to clear a log.
 */
function giveBackAttempt(d: Draft, name: string): void {
  const { attempt } = d.step(name);
  d.update(name, { attempt: attempt - 1 });
  d.effects.push({ type: "clearLog", step: name, attempt });
}
