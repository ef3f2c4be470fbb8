// A step's lease may offer the chain ahead of it (src/run/chain-successor.ts), each step under
// the lease id its next dispatch will have (its dispatchSeq + 1), and the runner may run them,
// one after the other, under those ids (DAGFLARE_LEASE_ID) before they are leased. When the
// step's lease ends without the event dispatching its successor (lost, released, failed,
// stopped, or the successor held back), a runner may have run any of them under those ids and
// dropped them: each step down the chain that a lease could have offered skips its number, so
// that no later lease is granted an id an unleased process used. PURE.
import { MAX_OFFER_DEPTH } from "../../limits";
import type { Draft } from "./draft";
import { decodeTimer } from "./timers";
import type { RunEvent } from "./types";

export function voidOffer(d: Draft, e: RunEvent): void {
  let from = e.type === "complete" || e.type === "release" ? e.step : e.type === "timer" ? timerStep(e.key) : undefined;
  // The lease of `from` offered at most MAX_OFFER_DEPTH steps; any lease before it, fewer beyond.
  for (let depth = 0; from !== undefined && depth < MAX_OFFER_DEPTH; depth++) {
    const next = d.ctx.dependents.get(from);
    if (next?.length !== 1) return;
    const successor = next[0] as string;
    if (d.effects.some((x) => x.type === "dispatch" && x.step === successor)) return;
    const s = d.step(successor);
    // A queued or running successor holds a dispatch of its own, which must stay current; its
    // own lease voids what it offered when it ends.
    if (s.phase.kind !== "idle" && s.phase.kind !== "held" && s.phase.kind !== "done") return;
    d.update(successor, { dispatchSeq: s.dispatchSeq + 1 });
    from = successor;
  }
}

function timerStep(key: string): string | undefined {
  const t = decodeTimer(key);
  return t && (t.kind === "lease" || t.kind === "timeout") ? t.step : undefined;
}
