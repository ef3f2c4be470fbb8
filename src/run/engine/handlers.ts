// Every event's handler, in one map typed over the event union: an event type without a
// handler does not compile. A handler records what the event changes and answers the caller;
// settle.ts derives the consequences. PURE.
import type { Draft } from "./draft";
import { onClaim, onHeartbeat, onRelease } from "./leases";
import { onStart } from "./lifecycle";
import { onApprove, onRetry, onSetStatus } from "./manual";
import { onComplete } from "./on-complete";
import { onTimer } from "./on-timer";
import { onStop } from "./stop";
import { onChildDone } from "./sub-dags";
import type { EventOf, Reply, RunEvent } from "./types";

export type Handler<E extends RunEvent> = (d: Draft, event: E) => Reply;

export type HandlerMap = { [K in RunEvent["type"]]: Handler<EventOf<K>> };

export const handlers: HandlerMap = {
  start: (d) => onStart(d),
  claim: onClaim,
  heartbeat: onHeartbeat,
  complete: onComplete,
  release: onRelease,
  timer: onTimer,
  stop: (d) => onStop(d),
  approve: onApprove,
  retry: onRetry,
  setStatus: onSetStatus,
  childDone: onChildDone,
};

/** The handler of this event's type (the map's type makes the lookup exact). */
export function handle<E extends RunEvent>(d: Draft, event: E): Reply {
  return (handlers[event.type] as Handler<E>)(d, event);
}
