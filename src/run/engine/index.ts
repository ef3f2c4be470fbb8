// The run engine: PURE. `transition(context, state, event, now)` returns the next state, the
// effects the RunObject must perform, and a reply for the caller. Only the engine assigns a
// status. See src/run/README.md for the glossary, the diagrams and how to add an event.
import { Draft } from "./draft";
import { handle } from "./handlers";
import { voidOffer } from "./offers";
import { settle } from "./settle";
import type { MachineContext, RunEvent, RunState, Transition } from "./types";

export function transition(ctx: MachineContext, state: RunState, event: RunEvent, now: number): Transition {
  const d = new Draft(ctx, state, now);
  try {
    const reply = handle(d, event);
    settle(d);
    // A stale event, or a completion already accepted coming again (its answer was lost), ended
    // no lease: the dispatch numbers down the chain stay, as do those of steps done under them.
    if (reply.kind !== "stale" && !(reply.kind === "completed" && !reply.accepted)) voidOffer(d, event);
    return { ...d.done(), context: d.ctx, effects: d.effects, reply };
  } catch (err) {
    d.abandon();
    throw err;
  }
}

export {
  createContext,
  DAG_ENV_STEP,
  DAG_PRECONDITIONS_STEP,
  extraSteps,
  initialState,
  inStepOrder,
  newStep,
} from "./context";
export { currentInstances, instanceDef, MAX_FANOUT_ITEMS, parseItems } from "./fanout-items";
export { leaseOf, statusOf } from "./phase";
export { intervalMs, letsDependentsRun } from "./rules";
export { deriveRunStatus } from "./run-status";
export { subRunId } from "./sub-dags";
export { decodeTimer, encodeTimer, type Timer, timerKey } from "./timers";
export * from "./types";
