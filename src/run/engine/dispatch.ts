// A step that is ready goes out: to the dispatcher for a runner, to approval, to a sub-DAG run,
// into instances (a fan-out step), or it is held back while maxActiveSteps or its parallel
// group's maxConcurrent is reached. PURE.
import type { Draft } from "./draft";
import { expandFanout } from "./fanout";
import { startCall } from "./sub-dags";

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
  const s = d.step(name);
  const next = d.move(name, { kind: "queued" }, { dispatchSeq: s.dispatchSeq + 1, readyAt: d.now });
  d.effects.push({ type: "dispatch", step: name, dispatchSeq: next.dispatchSeq });
}

/** Whether the parallel step `name` is an instance of already runs maxConcurrent instances. */
export function groupFull(d: Draft, name: string): boolean {
  const group = d.def(name).parallelGroup;
  return group !== undefined && d.index.occupyingInGroup(group.name) >= group.maxConcurrent;
}

/** Dispatches steps held back by maxActiveSteps or maxConcurrent, in DAG order, while there is room. */
export function fillSlots(d: Draft): void {
  const max = d.ctx.dag.maxActiveSteps;
  if (d.state.stopRequested || d.index.pending.size === 0) return;
  const order = (n: string) => d.ctx.indexOf.get(n) ?? Number.MAX_SAFE_INTEGER;
  const held = [...d.index.pending].sort((a, b) => order(a) - order(b));
  for (const name of held) {
    if (max && d.index.occupying >= max) return;
    if (d.step(name).phase.kind === "held" && !groupFull(d, name)) dispatch(d, name, true);
  }
}
