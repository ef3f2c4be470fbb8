// A runner's results for its attempts, one or several in one call and one storage transaction,
// each answered on its own. With `next`, the steps each result made ready are leased to the same
// runner at once, in that transaction, then the dispatches the dispatcher took along for it
// (`claims`): a chain, and a wide run's step, cost one call and one transaction per step. A
// result the runner got under an offer (`offered`: a chain's step it ran ahead) is taken only
// when a result before it in the call leased exactly that step, dispatch and attempt to this
// runner; it then takes that lease's token, and the chain's steps cost one call between them.
// A completion may bring the attempt's log entries not shipped yet (`logs`, a step run ahead):
// they are stored in the transaction that takes the completion, and dropped with a refused one.
import { type Outcome, ok } from "../../errors";
import { utf8Bytes } from "../../limits";
import type { Lease, NextAsk } from "../../shared/protocol";
import { matches } from "../../shared/selector";
import type { Reply, RunEvent } from "../engine";
import { addDroppedBytes, appendLog } from "../log-store";
import { staleFrom, staleLease } from "./lease-errors";
import { claimEvent } from "./lease-grant";
import type { Claim, CompletionReport, CompletionResultData } from "./rpc";
import type { Batch, GrantedClaim, RunCore } from "./run-core";

export type CompletionItem = { stepIndex: number; report: CompletionReport };

export interface Completed {
  results: Array<Outcome<{ accepted: boolean; token?: string }>>;
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
  const results: Completed["results"] = reports.map(() => staleLease("unknown lease"));
  // The token each offered completion took from its claim, by its place in `known`.
  const tokens = new Map<number, string>();
  const events = known.map((k, j) => {
    const offered = k.report.offered;
    const complete = (token: string): RunEvent => ({ type: "complete", step: k.step, token, result: k.report.outcome });
    if (!offered) return complete(k.report.token);
    return (granted: readonly GrantedClaim[]): RunEvent | undefined => {
      // Once an offered one is refused, the chain's later steps cannot have been leased by it.
      if (known[j - 1]?.report.offered && !tokens.has(j - 1)) return undefined;
      const c = granted.find(
        (g) =>
          g.event.step === k.step &&
          g.event.dispatchSeq === offered.dispatchSeq &&
          g.attempt === offered.attempt &&
          g.event.runnerId === next?.runnerId,
      );
      if (!c) return undefined;
      tokens.set(j, c.event.token);
      return complete(c.event.token);
    };
  });
  // Offered completions before the call's first under a real lease: nothing in the call leased them.
  const lead = known.findIndex((k) => !k.report.offered);
  for (const k of lead < 0 ? known : known.slice(0, lead)) results[k.i] = refusedOffer(run, k, next);
  const [first, ...rest] = lead < 0 ? [] : events.slice(lead);
  if (!first || typeof first === "function") return { results, next: [], untried: claims };
  let untried = claims;
  // The steps whose log a completion brought: told to live sockets once stored.
  const logged: string[] = [];
  const roomLeft = (granted: readonly GrantedClaim[]) => (next ? Math.max(0, next.max - granted.length) : 0);
  const batch: Batch = {
    also: rest,
    // Each accepted result hands the steps it made ready to the runner at once, so that an
    // offered result after it finds its lease.
    follow: (t, granted) => {
      if (!next || t.reply.kind !== "completed" || !t.reply.accepted) return [];
      return t.effects
        .flatMap((e) => (e.type === "dispatch" ? [e] : []))
        .filter((e) => matches(run.selectorOf(e.step, t.context), next.labels))
        .slice(0, roomLeft(granted))
        .flatMap((e) => claimEvent(run.init, t.context, e.step, e.dispatchSeq, next.runnerId) ?? []);
    },
    last: (context, replies, granted) => {
      if (!next || !replies.some((r) => r.kind === "completed" && r.accepted)) return [];
      const room = roomLeft(granted);
      untried = claims.slice(room);
      return claims
        .slice(0, room)
        .flatMap((c) => claimEvent(run.init, context, c.step, c.dispatchSeq, next.runnerId) ?? []);
    },
    write: (replies) => {
      known.forEach((k, j) => {
        const reply = j < lead ? undefined : replies[j - lead];
        const attempt = k.report.offered?.attempt ?? k.attempt;
        // Only with the result it belongs to: a repeat already stored it, a refusal drops it.
        if (!k.report.logs?.length || reply?.kind !== "completed" || !reply.accepted || attempt === undefined) return;
        appendLog(run.sql, { step: k.step, attempt }, k.report.logs);
        logged.push(k.step);
      });
    },
  };
  const { replies, granted } = await run.fire(first, Date.now(), batch);
  for (const step of logged) run.live.logsAppended(step);
  known.forEach((k, j) => {
    if (j < lead) return;
    const reply: Reply | undefined = replies[j - lead];
    if (reply?.kind !== "completed") {
      results[k.i] = k.report.offered ? refusedOffer(run, k, next) : staleFrom(reply ?? { kind: "none" });
      return;
    }
    // An offered completion's attempt is the one its claim in this call granted.
    const attempt = k.report.offered?.attempt ?? k.attempt;
    if (reply.accepted && attempt !== undefined) countRunnerDrops(run, k.step, attempt, k.report.droppedLogBytes);
    const token = tokens.get(j);
    results[k.i] = ok({ accepted: reply.accepted, ...(token !== undefined && { token }) });
  });
  return { results, next: granted, untried };
}

/**
 * An offered completion no result of the call leased: a safe repeat when this runner's result
 * for exactly that lease was taken before (an answer lost on the way); otherwise refused, and
 * said in the run's log, since a process ran whose result the run will not see.
 */
function refusedOffer(
  run: RunCore,
  k: { step: string; report: CompletionReport },
  next: NextAsk | undefined,
): Outcome<{ accepted: boolean }> {
  const s = run.state?.steps[k.step];
  const o = k.report.offered;
  const runner = next?.runnerId ?? "unknown";
  const taken =
    o && s && s.runnerId === runner && s.dispatchSeq === o.dispatchSeq && s.attempt === o.attempt && s.doneCount;
  if (taken && s.phase.kind !== "leased" && s.phase.kind !== "running") return ok({ accepted: false });
  const bytes = (k.report.logs ?? []).reduce((n, e) => n + utf8Bytes(e.text), 0);
  const output = bytes > 0 ? `, nor its ${bytes} bytes of output` : "";
  run.store.appendRunLog(
    `step ${k.step} ran on runner ${runner} under an offer the run withdrew; its result was not taken${output}`,
  );
  return staleLease("offered lease not granted: the completion before it in the call did not lease it");
}

/** As plain data: an Outcome's error details do not cross RPC inside an array. */
export function resultData(r: Outcome<{ accepted: boolean; token?: string }>): CompletionResultData {
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
