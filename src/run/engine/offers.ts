// A step's lease may offer its chain successor (src/run/chain-successor.ts) under the lease id
// the successor's next dispatch will have (its dispatchSeq + 1), and the runner may start the
// successor under that id (DAGFLARE_LEASE_ID) before it is leased. When the step's lease ends
// without the event dispatching the successor (lost, released, failed, stopped, or the
// successor held back), a runner may have run the successor under that id and dropped it: the
// successor skips the number, so that no later lease is granted an id an unleased process used.
// PURE.
import type { Draft } from "./draft";
import { decodeTimer } from "./timers";
import type { RunEvent } from "./types";

export function voidOffer(d: Draft, e: RunEvent): void {
  const from =
    e.type === "complete" || e.type === "release" ? e.step : e.type === "timer" ? timerStep(e.key) : undefined;
  const next = from === undefined ? undefined : d.ctx.dependents.get(from);
  if (next?.length !== 1) return;
  const successor = next[0] as string;
  if (d.effects.some((x) => x.type === "dispatch" && x.step === successor)) return;
  const s = d.step(successor);
  // A queued or running successor holds a dispatch of its own, which must stay current.
  if (s.phase.kind !== "idle" && s.phase.kind !== "held" && s.phase.kind !== "done") return;
  d.update(successor, { dispatchSeq: s.dispatchSeq + 1 });
}

function timerStep(key: string): string | undefined {
  const t = decodeTimer(key);
  return t && (t.kind === "lease" || t.kind === "timeout") ? t.step : undefined;
}
