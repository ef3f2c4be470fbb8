// Stopping a run: by a person (POST .../stop), by the DAG's timeoutSec, or by a rejection. PURE.
import { isTerminalRun } from "../../status";
import type { Draft } from "./draft";
import type { Reply } from "./types";

export function onStop(d: Draft): Reply {
  if (isTerminalRun(d.state.status) || d.state.stopRequested) return { kind: "none" };
  d.state.stopRequested = true;
  d.log("stop requested");
  for (const s of Object.values(d.state.steps)) {
    const p = s.phase;
    if (p.kind === "leased" || p.kind === "running") {
      // The runner learns at its next heartbeat; if it never calls again, lease expiry aborts it.
      d.move(s.name, { ...p, lease: { ...p.lease, cancelRequested: true } });
    } else if (p.kind === "calling") {
      // The step ends when its sub-DAG run, stopped too, reports that it ended.
      d.move(s.name, { ...p, stopRequested: true });
      d.effects.push({ type: "stopChild", childRunId: p.childRunId });
    } else if (d.ctx.handlerNames.has(s.name) && p.kind !== "queued") {
      // A handler that has not started is for settle to run or drop.
    } else if (p.kind === "fannedOut") {
      // A fan-out step ends with its instances (fanout.ts).
    } else if (p.kind !== "done") {
      d.finish(s.name, "aborted", "stopped before it ran");
    }
  }
  return { kind: "none" };
}

export function onRunTimeout(d: Draft): Reply {
  if (isTerminalRun(d.state.status) || d.state.stopRequested) return { kind: "none" };
  d.state.timedOut = true;
  d.log(`run timed out after ${d.ctx.dag.timeoutSec}s (timeoutSec); stopping it`);
  return onStop(d);
}
