// What a fired timer stands for, from its stored key: the engine's timers go back to the
// engine as a `timer` event; the outbox's retry timers (`enqueue`, `child`, `stopchild`,
// `summary`, `webhooks`) are delivered by the shell. The keys themselves are encoded in one place,
// the engine's `timers.ts`.
import { decodeTimer, encodeTimer, type RunEvent } from "../engine";
import { WEBHOOK_TIMER } from "./webhook-outbox";

/** The keys of the outbox's timers: an effect not yet delivered, retried when its timer fires. */
export const outboxTimer = {
  enqueue: (step: string) => encodeTimer({ kind: "enqueue", step }),
  startChild: (step: string) => encodeTimer({ kind: "child", step }),
  stopChild: (childRunId: string) => encodeTimer({ kind: "stopchild", runId: childRunId }),
  summary: encodeTimer({ kind: "summary" }),
} as const;

/** What a fired timer asks for: an outbox delivery, or an event for the machine. */
export type FiredTimer =
  | { kind: "enqueue"; step: string }
  | { kind: "startChild"; step: string }
  | { kind: "stopChild"; childRunId: string }
  | { kind: "summary" }
  | { kind: "webhooks" }
  | { kind: "event"; event: Extract<RunEvent, { type: "timer" }> };

export function firedTimer(key: string): FiredTimer {
  if (key === WEBHOOK_TIMER) return { kind: "webhooks" };
  const timer = decodeTimer(key);
  switch (timer?.kind) {
    case "enqueue":
      return { kind: "enqueue", step: timer.step };
    case "child":
      return { kind: "startChild", step: timer.step };
    case "stopchild":
      return { kind: "stopChild", childRunId: timer.runId };
    case "summary":
      return { kind: "summary" };
    default:
      return { kind: "event", event: { type: "timer", key } };
  }
}
