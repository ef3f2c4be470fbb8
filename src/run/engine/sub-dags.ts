// Call steps: a step that calls another DAG runs as a sub-DAG run of its own, and ends when that
// run reports its end (a `childDone` event). PURE; the RunObject starts and stops the child runs.
import type { Draft } from "./draft";
import { fanoutParentOf } from "./fanout-items";
import { outputsOverLimit, setOutput } from "./outputs";
import { failAttempt } from "./retries";
import { timerKey } from "./timers";
import type { EventOf, Reply } from "./types";

/**
 * The id of the sub-DAG run a call step starts: fixed by the parent run, the step's position and
 * its dispatch number, so that starting it again (after an interruption) finds the same run.
 */
export function subRunId(runId: string, index: number, dispatchSeq: number): string {
  return `${runId}-${index}-${dispatchSeq}`;
}

/** A call step runs: its sub-DAG run is started; the step ends when that run reports its end. */
export function startCall(d: Draft, name: string): void {
  const s = d.step(name);
  const def = d.def(name);
  const dispatchSeq = s.dispatchSeq + 1;
  const childRunId = subRunId(d.state.runId, d.ctx.indexOf.get(name) ?? -1, dispatchSeq);
  const attempt = s.attempt + 1;
  d.move(
    name,
    { kind: "calling", childRunId, stopRequested: false },
    {
      dispatchSeq,
      attempt,
      subRuns: [...(s.subRuns ?? []), childRunId],
      readyAt: d.now,
      startedAt: d.now,
      finishedAt: undefined,
      exitCode: undefined,
      error: undefined,
    },
  );
  d.effects.push({ type: "startChild", step: name, childRunId });
  if (def.timeoutSec) d.setTimer(timerKey.timeout(name), d.now + def.timeoutSec * 1000);
  d.log(`step ${name} attempt ${attempt}: calls DAG ${def.call?.dag} as sub-DAG run ${childRunId}`);
}

export function onChildDone(d: Draft, e: EventOf<"childDone">): Reply {
  const s = d.step(e.step);
  const call = s.phase;
  // A report of an earlier attempt's child, or one already applied.
  if (call.kind !== "calling" || call.childRunId !== e.childRunId) return { kind: "none" };
  const def = d.def(e.step);
  const what = `sub-DAG run ${e.childRunId} of ${def.call?.dag}`;
  // Every branch below moves the step out of `calling`.
  // An instance of a fan-out step keeps its child's result for its step's aggregate, which is
  // what the step's output variable gets (fanout.ts); it sets no variable of its own.
  const instance = fanoutParentOf(d.ctx.stepsByName, e.step) !== undefined;
  if (instance) {
    d.update(e.step, {
      result: { dagName: def.call?.dag, dagRunId: e.childRunId, params: e.paramsText, outputs: e.outputs },
    });
  }
  const output = instance ? undefined : def.output;
  // Dagu's shape: the child's name, its params and its outputs (`${OUT.outputs.NAME}`).
  const value = output && JSON.stringify({ name: def.call?.dag, params: e.paramsText, outputs: e.outputs });
  const done = e.status === "succeeded" || e.status === "partially_succeeded";
  const tooBig = done && output && value ? outputsOverLimit(d, output, value) : undefined;
  if (tooBig) {
    failAttempt(d, e.step, tooBig);
  } else if (e.status === "succeeded" || e.status === "partially_succeeded") {
    if (output && value) setOutput(d, e.step, output, value);
    d.update(e.step, { doneCount: (s.doneCount ?? 0) + 1 });
    d.finish(e.step, e.status);
  } else if (call.stopRequested || e.status === "aborted") {
    d.finish(e.step, "aborted", e.error ?? `${what} was aborted`);
  } else {
    failAttempt(d, e.step, e.error ?? `${what} ${e.status}`);
  }
  return { kind: "none" };
}
