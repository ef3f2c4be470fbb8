// The one place that knows the timer keys. The machine sets and clears its own timers
// (`lease:<step>`, `timeout:<step>`, `retry:<step>`, `repeat:<step>`, `run:timeout`,
// `run:delay`); the shell adds the outbox's retry timers. When a timer fires, `firedTimer`
// says what it stands for.
import type { RunEvent } from "../machine";

/** The keys of the outbox's timers: an effect not yet delivered, retried when its timer fires. */
export const outboxTimer = {
  enqueue: (step: string) => `enqueue:${step}`,
  startChild: (step: string) => `child:${step}`,
  stopChild: (childRunId: string) => `stopchild:${childRunId}`,
  summary: "summary",
} as const;

/** What a fired timer asks for: an outbox delivery, or an event for the machine. */
export type FiredTimer =
  | { kind: "enqueue"; step: string }
  | { kind: "startChild"; step: string }
  | { kind: "stopChild"; childRunId: string }
  | { kind: "summary" }
  | { kind: "event"; event: Extract<RunEvent, { type: "timer" }> };

export function firedTimer(key: string): FiredTimer {
  if (key.startsWith("enqueue:")) return { kind: "enqueue", step: key.slice("enqueue:".length) };
  if (key.startsWith("child:")) return { kind: "startChild", step: key.slice("child:".length) };
  if (key.startsWith("stopchild:")) return { kind: "stopChild", childRunId: key.slice("stopchild:".length) };
  if (key === outboxTimer.summary) return { kind: "summary" };
  return { kind: "event", event: { type: "timer", key } };
}
