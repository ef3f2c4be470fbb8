// The webhook events of one RunObject transition, read from the state before and after it:
// the shell sees every change, so the engine needs to know nothing of webhooks. Only the steps
// the transition wrote are looked at (the engine names them), so an event costs what it
// changed, not the run's size.
import type { RunState, StepState } from "../run/engine";
import type { RunStatus, StepStatus } from "../status";
import type { EventSubject, WebhookEventType } from "./events";
import { newEvent, type WebhookEvent } from "./payload";

const RUN_EVENTS: Partial<Record<RunStatus, WebhookEventType>> = {
  running: "dag.started",
  succeeded: "dag.succeeded",
  partially_succeeded: "dag.succeeded",
  failed: "dag.failed",
  aborted: "dag.cancelled",
  rejected: "dag.cancelled",
};

const STEP_EVENTS: Partial<Record<StepStatus, WebhookEventType>> = {
  running: "task.started",
  succeeded: "task.succeeded",
  partially_succeeded: "task.succeeded",
  failed: "task.failed",
  aborted: "task.failed",
  rejected: "task.failed",
  retrying: "task.retrying",
};

export interface SubjectEvent {
  subject: EventSubject;
  event: WebhookEvent;
}

/**
 * The events of a transition, steps before the run. `changed`: the steps the transition wrote,
 * in step order (the events follow it); a step it did not write has no event.
 */
export function runEvents(
  before: RunState | undefined,
  after: RunState,
  now: number,
  changed: Iterable<string>,
): SubjectEvent[] {
  const out: SubjectEvent[] = [];
  const base = { dagName: after.dagName, dagRunId: after.runId, status: after.status };
  for (const name of changed) {
    const s = after.steps[name];
    if (!s) continue;
    const was = before?.steps[name];
    if (!stepChanged(was, s)) continue;
    const type = STEP_EVENTS[s.status];
    if (!type) continue;
    const step = {
      name,
      status: s.status,
      attempt: s.attempt,
      ...(s.exitCode !== undefined && { exitCode: s.exitCode }),
      ...(s.error && { error: s.error }),
    };
    out.push({
      subject: { type, dagName: after.dagName, stepName: name },
      event: newEvent(type, now, { ...base, step }),
    });
  }
  const type = RUN_EVENTS[after.status];
  if (type && before?.status !== after.status) {
    out.push({ subject: { type, dagName: after.dagName }, event: newEvent(type, now, base) });
  }
  return out;
}

/** A new status, or a new attempt in the same status (a retry that started again at once). */
function stepChanged(was: StepState | undefined, now: StepState): boolean {
  return was?.status !== now.status || (now.status === "running" && was.attempt !== now.attempt);
}
