// Stopping a run: by a person (POST .../stop), by the DAG's timeoutSec, or by a rejection. PURE.
import { isTerminalRun, isTerminalStep } from "../../status";
import type { Draft } from "./draft";
import { awaitsInstances } from "./run-index";
import type { Reply } from "./types";

export function onStop(d: Draft): Reply {
  if (isTerminalRun(d.state.status) || d.state.stopRequested) return { kind: "none" };
  d.state.stopRequested = true;
  d.log("stop requested");
  for (const s of Object.values(d.state.steps)) {
    if (s.status === "running" && s.lease) {
      // The runner learns at its next heartbeat; if it never calls again, lease expiry aborts it.
      d.update(s.name, { lease: { ...s.lease, cancelRequested: true } });
    } else if (s.status === "running" && s.child) {
      // The step ends when its sub-DAG run, stopped too, reports that it ended.
      d.update(s.name, { child: { ...s.child, stopRequested: true } });
      d.effects.push({ type: "stopChild", childRunId: s.child.runId });
    } else if (d.ctx.handlerNames.has(s.name) && !s.queued) {
      // A handler that has not started is for settle to run or drop.
    } else if (awaitsInstances(d.ctx, s)) {
      // A fan-out step ends with its instances (fanout.ts).
    } else if (!isTerminalStep(s.status)) {
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
