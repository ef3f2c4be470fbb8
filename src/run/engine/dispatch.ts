// A step that is ready goes out: to the dispatcher for a runner, to approval, to a sub-DAG run,
// into instances (a fan-out step), or it is held back while maxActiveSteps, its parallel
// group's maxConcurrent or the lease bound is reached. PURE.
import type { Draft } from "./draft";
import { expandFanout } from "./fanout";
import { selectorKey } from "./run-index";
import { startCall } from "./sub-dags";

/**
 * Steps of one run and one workerSelector handed out and not confirmed yet: dispatched, or
 * leased to a runner that has not yet called about the lease (a heartbeat or a completion).
 * Past it, a step that becomes ready is held until a confirmation, a release or an expiry frees
 * room. A lease must be confirmed within CONFIRM_WITHIN_MS; a run that handed out more than it
 * can hear back about in that time would take leases back and hand them out again (wasted
 * leases). Counted per selector, so tasks that no live runner takes do not hold back the others.
 */
export const MAX_UNCONFIRMED_LEASES = 64;

/** `fromQueue`: the step was held back and is let through now (it may pass others held back). */
export function dispatch(d: Draft, name: string, fromQueue = false): void {
  const def = d.def(name);
  if (def.fanout) {
    expandFanout(d, name);
    return;
  }
  if (def.approval && !d.step(name).approved) {
    // Waits for POST .../approve or /reject; it holds no runner slot meanwhile.
    d.move(name, { kind: "awaitingApproval" }, { readyAt: d.now });
    d.log(`step ${name} waits for approval${def.approval.prompt ? `: ${def.approval.prompt}` : ""}`);
    return;
  }
  const max = d.ctx.dag.maxActiveSteps;
  const othersHeld = () => d.index.pending.size > (d.index.pending.has(name) ? 1 : 0);
  if ((max && (d.index.occupying >= max || (!fromQueue && othersHeld()))) || groupFull(d, name)) {
    // Held back; settle dispatches it when a step ends.
    if (d.step(name).phase.kind !== "held") d.move(name, { kind: "held" });
    return;
  }
  if (def.call) {
    startCall(d, name);
    return;
  }
  if (leaseBoundReached(d, name)) {
    if (d.step(name).phase.kind !== "held") d.move(name, { kind: "held" });
    return;
  }
  const s = d.step(name);
  const next = d.move(name, { kind: "queued" }, { dispatchSeq: s.dispatchSeq + 1, readyAt: d.now });
  d.effects.push({ type: "dispatch", step: name, dispatchSeq: next.dispatchSeq });
}

/** Whether the parallel step `name` is an instance of already runs maxConcurrent instances. */
export function groupFull(d: Draft, name: string): boolean {
  const group = d.def(name).parallelGroup;
  return group !== undefined && d.index.occupyingInGroup(group.name) >= group.maxConcurrent;
}

/** Whether a runner step of this selector would pass the run's bound on unconfirmed leases. */
function leaseBoundReached(d: Draft, name: string): boolean {
  return !d.def(name).call && d.index.outFor(selectorKey(d.ctx, name)) >= MAX_UNCONFIRMED_LEASES;
}

/** Whether some held step's selector is below the lease bound (a held call step always is). */
function roomForHeld(d: Draft): boolean {
  for (const [selector, held] of d.index.heldSelectors()) {
    if (held > 0 && d.index.outFor(selector) < MAX_UNCONFIRMED_LEASES) return true;
  }
  return false;
}

/**
 * Dispatches held steps, in DAG order, while there is room. Stops as soon as no held step's
 * selector has room, so that an event of a wide run with thousands held behind the lease bound
 * costs what it dispatches.
 */
export function fillSlots(d: Draft): void {
  const max = d.ctx.dag.maxActiveSteps;
  const held = d.index.pending;
  if (d.state.stopRequested) return;
  for (let i = 0; roomForHeld(d); ) {
    if (max && d.index.occupying >= max) return;
    const name = held.at(i);
    if (name === undefined) return;
    if (d.step(name).phase.kind === "held" && !groupFull(d, name) && !leaseBoundReached(d, name)) {
      dispatch(d, name, true);
      // Dispatched, it left the held steps and the next one is at `i` now.
      if (held.at(i) !== name) continue;
    }
    i++;
  }
}
