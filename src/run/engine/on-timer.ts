// One of the engine's timers came due (timers.ts): a lease expired, a step's or the run's
// timeout passed, a retry or repeat wait ended, the run's delay ended. PURE.
import type { Draft } from "./draft";
import { leaseExpired } from "./leases";
import { readyRoots } from "./lifecycle";
import { leaseOf } from "./phase";
import { failAttempt } from "./retries";
import { isActive } from "./rules";
import { onRunTimeout } from "./stop";
import { decodeTimer, isEngineTimer } from "./timers";
import type { EventOf, Reply } from "./types";

export function onTimer(d: Draft, e: EventOf<"timer">): Reply {
  const timer = decodeTimer(e.key);
  // A key the engine does not own (the RunObject handles its own) is no event for it.
  if (!timer || !isEngineTimer(timer)) return { kind: "none" };
  if (timer.kind === "run:timeout") return onRunTimeout(d);
  if (timer.kind === "run:delay") {
    if (isActive(d.state.status) && !d.state.stopRequested) readyRoots(d);
    return { kind: "none" };
  }
  const name = timer.step;
  const s = d.state.steps[name];
  if (!s) return { kind: "none" };
  const p = s.phase;
  const lease = leaseOf(s);
  switch (timer.kind) {
    case "lease":
      if (lease && lease.expiresAt <= d.now) leaseExpired(d, name, lease);
      break;
    case "timeout":
      if (p.kind === "calling") {
        d.effects.push({ type: "stopChild", childRunId: p.childRunId });
        failAttempt(d, name, `timed out after ${d.def(name).timeoutSec}s; sub-DAG run ${p.childRunId} stopped`);
      } else if (lease) {
        d.log(`step ${name}: runner ${lease.runnerId} did not report the timeout; failing the attempt`);
        failAttempt(d, name, `timed out after ${d.def(name).timeoutSec}s (runner did not report)`);
      }
      break;
    case "retry":
      if (p.kind === "retryWait" && !d.state.stopRequested) d.ready.push(name);
      break;
    case "repeat":
      if (p.kind === "repeatWait" && !d.state.stopRequested) d.ready.push(name);
      break;
  }
  return { kind: "none" };
}
