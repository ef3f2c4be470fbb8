// Several completions in one call (POST /runners/completions, and the same path over the
// runner's socket): a runner that finished several steps reports them together. The completions
// of one run go to its RunObject in one call and are accepted in one storage transaction; those
// of different runs go to their runs side by side. Each completion is answered with the status
// and body its own `complete` call would have had, so one stale lease refuses only itself.
import type { Env } from "../env";
import { AppError, type ErrorCode } from "../errors";
import { parseBody } from "../parse-input";
import type { Claim, CompletionReport } from "../run/object/rpc";
import { parseLeaseId } from "../shared/lease-id";
import {
  type CompletionResult,
  CompletionsRequest,
  type CompletionsResponse,
  type ErrorBody,
  type Lease,
} from "../shared/protocol";
import { runStub } from "../stubs";
import { checkOutput, type LeaseCallHooks } from "./lease-calls";

interface Item {
  /** Where the completion is in the request (its result goes there). */
  at: number;
  leaseId: string;
  stepIndex: number;
  report: CompletionReport;
}

export async function completeMany(env: Env, body: unknown, hooks: LeaseCallHooks): Promise<CompletionsResponse> {
  const req = parseBody(CompletionsRequest, body);
  if (req.next) hooks.checkPool(req.next.labels);
  const seen = new Set<string>();
  for (const c of req.completions) {
    if (seen.has(c.leaseId)) {
      throw new AppError("bad_request", 400, `lease ${c.leaseId} is completed twice in one call`, {
        fields: ["completions"],
      });
    }
    seen.add(c.leaseId);
  }
  const results: CompletionResult[] = [];
  const byRun = new Map<string, Item[]>();
  req.completions.forEach((c, at) => {
    const { leaseId, token, lastLogSeq: _seq, droppedLogBytes, outputTruncated: _cut, ...outcome } = c;
    const parts = parseLeaseId(leaseId);
    try {
      if (!parts) throw new AppError("not_found", 404, `unknown lease ${leaseId}`);
      checkOutput(outcome);
    } catch (err) {
      results[at] = refusal(leaseId, err);
      return;
    }
    const items = byRun.get(parts.runId) ?? [];
    items.push({ at, leaseId, stepIndex: parts.stepIndex, report: { token, outcome, droppedLogBytes } });
    byRun.set(parts.runId, items);
  });

  // The runner's next leases ride on the first run's completions (over the socket, with the
  // waiting tasks taken along for that run); the other runs only take their results.
  const [leadRun] = byRun.keys();
  const next = req.next;
  const along = next && leadRun !== undefined ? hooks.takeAlong?.(leadRun, next) : undefined;
  let granted: Lease[] = [];
  let untried: Claim[] | "all" = "all";
  await Promise.all(
    [...byRun].map(async ([runId, items]) => {
      const lead = runId === leadRun;
      try {
        const done = await runStub(env, runId).completeMany(
          items.map((i) => ({ stepIndex: i.stepIndex, report: i.report })),
          lead ? next : undefined,
          lead ? along?.claims : undefined,
        );
        items.forEach((item, k) => {
          const r = done.results[k];
          results[item.at] =
            r && "accepted" in r
              ? { leaseId: item.leaseId, status: 200, body: { accepted: r.accepted } }
              : { leaseId: item.leaseId, status: r?.refused.status ?? 500, body: refusedBody(r?.refused) };
        });
        if (lead) ({ next: granted, untried } = done);
      } catch (err) {
        // The run could not be reached: these completions are answered 500 and sent again.
        console.error(`completions: run ${runId} failed`, err);
        for (const item of items) results[item.at] = refusal(item.leaseId, err);
      }
    }),
  );
  if (along) return { results, next: await along.settle(granted, untried) };
  // As for one completion: with no step of its run for the runner, any ready step of the pool.
  const leases = next && granted.length === 0 ? await hooks.takeNext(next) : granted;
  return { results, next: leases };
}

function refusedBody(refused: { code: ErrorCode; message: string } | undefined): ErrorBody {
  return refused
    ? { code: refused.code, message: refused.message }
    : { code: "internal_error", message: "internal error" };
}

function refusal(leaseId: string, err: unknown): CompletionResult {
  if (err instanceof AppError) {
    const { code, message, details } = err;
    return { leaseId, status: err.status, body: { code, message, ...(details && { details }) } };
  }
  return { leaseId, status: 500, body: { code: "internal_error", message: "internal error" } };
}
