// A runner's results for its attempts, one or several in one call and one storage transaction,
// each answered on its own. With `next`, the steps the results made ready are leased to the same
// runner in that transaction, then the dispatches the dispatcher took along for it (`claims`):
// a chain, and a wide run's step, cost one call and one transaction per step.
import { type Outcome, ok } from "../../errors";
import type { Lease, NextAsk } from "../../shared/protocol";
import { matches } from "../../shared/selector";
import type { Reply, RunEvent, Transition } from "../engine";
import { addDroppedBytes } from "../log-store";
import { staleFrom, staleLease } from "./lease-errors";
import { claimEvent } from "./lease-grant";
import type { Claim, CompletionReport, CompletionResultData } from "./rpc";
import type { RunCore } from "./run-core";

export type CompletionItem = { stepIndex: number; report: CompletionReport };

export interface Completed {
  results: Array<Outcome<{ accepted: boolean }>>;
  next: Lease[];
  untried: Claim[];
}

export async function completeOutcomes(
  run: RunCore,
  reports: CompletionItem[],
  next?: NextAsk,
  claims: Claim[] = [],
): Promise<Completed> {
  const known = reports.flatMap((r, i) => {
    const step = run.stepAt(r.stepIndex);
    return step ? [{ i, step, ...r, attempt: run.state?.steps[step]?.attempt }] : [];
  });
  const results: Array<Outcome<{ accepted: boolean }>> = reports.map(() => staleLease("unknown lease"));
  const [first, ...rest] = known.map(
    (k): RunEvent => ({ type: "complete", step: k.step, token: k.report.token, result: k.report.outcome }),
  );
  if (!first) return { results, next: [], untried: claims };
  let untried = claims;
  const handOff = (t: Transition, replies: Reply[]): RunEvent[] => {
    if (!next || !replies.some((r) => r.kind === "completed" && r.accepted)) return [];
    const ready = t.effects
      .flatMap((e) => (e.type === "dispatch" ? [e] : []))
      .filter((e) => matches(run.selectorOf(e.step, t.context), next.labels))
      .slice(0, next.max);
    const room = Math.max(0, next.max - ready.length);
    untried = claims.slice(room);
    return [...ready, ...claims.slice(0, room)].flatMap(
      (c) => claimEvent(run.init, t.context, c.step, c.dispatchSeq, next.runnerId) ?? [],
    );
  };
  const { replies, granted } = await run.fire(first, Date.now(), handOff, rest);
  known.forEach((k, j) => {
    const reply = replies[j];
    if (reply?.kind !== "completed") {
      results[k.i] = staleFrom(reply ?? { kind: "none" });
      return;
    }
    if (reply.accepted && k.attempt !== undefined) countRunnerDrops(run, k.step, k.attempt, k.report.droppedLogBytes);
    results[k.i] = ok({ accepted: reply.accepted });
  });
  return { results, next: granted, untried };
}

/** As plain data: an Outcome's error details do not cross RPC inside an array. */
export function resultData(r: Outcome<{ accepted: boolean }>): CompletionResultData {
  if (r.ok) return r.value;
  const { code, status, message } = r.error;
  return { refused: { code, status, message } };
}

/**
 * Output the runner could not ship (its step log says why) counts in the attempt's
 * `droppedBytes` beside what the server itself dropped. Once: only an accepted completion.
 */
function countRunnerDrops(run: RunCore, step: string, attempt: number, bytes: number): void {
  if (bytes <= 0) return;
  addDroppedBytes(run.sql, { step, attempt }, bytes);
  run.store.appendRunLog(`step ${step}: the runner dropped ${bytes} bytes of its log (the step's log says why)`);
}
