// Several completions in one call (POST /runners/completions, and the same path over the
// runner's socket): a runner that finished several steps reports them together. The completions
// of one run go to its RunObject in one call and are accepted in one storage transaction; those
// of different runs go to their runs side by side. Each completion is answered with the status
// and body its own `complete` call would have had, so one stale lease refuses only itself.
import type { Env } from "../env";
import { AppError, type ErrorCode } from "../errors";
import { showBytes, utf8Bytes } from "../limits";
import { parseBody } from "../parse-input";
import type { Claim, CompletionReport } from "../run/object/rpc";
import { parseLeaseId } from "../shared/lease-id";
import {
  type CompletionResult,
  CompletionsRequest,
  type CompletionsResponse,
  type ErrorBody,
  type Lease,
  type LogEntry,
  MAX_COMPLETION_LOG_BYTES,
  MAX_COMPLETION_LOG_ENTRIES,
  MAX_LOG_BATCH_BYTES,
  type NextAsk,
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
  // The log text the call brings is held to a log batch's limit, as an append's would be.
  const logBytes = req.completions.reduce((n, c) => n + textBytes(c.logs ?? []), 0);
  if (logBytes > MAX_LOG_BATCH_BYTES) {
    throw new AppError(
      "bad_request",
      413,
      `the completions' log entries come to ${logBytes} bytes, over the limit of ${showBytes(MAX_LOG_BATCH_BYTES)} for one call`,
      { fields: ["completions"] },
    );
  }
  const results: CompletionResult[] = [];
  const byRun = new Map<string, Item[]>();
  req.completions.forEach((c, at) => {
    const { leaseId, token, offered, logs, lastLogSeq: _seq, droppedLogBytes, outputTruncated: _cut, ...outcome } = c;
    const parts = parseLeaseId(leaseId);
    try {
      if (!parts) throw new AppError("not_found", 404, `unknown lease ${leaseId}`);
      checkOutput(outcome);
      if (logs) checkLogs(logs, at);
    } catch (err) {
      results[at] = refusal(leaseId, err);
      return;
    }
    const items = byRun.get(parts.runId) ?? [];
    const report: CompletionReport = { token, outcome, droppedLogBytes };
    if (offered) report.offered = { dispatchSeq: parts.dispatchSeq, attempt: offered.attempt };
    if (logs?.length) report.logs = logs;
    items.push({ at, leaseId, stepIndex: parts.stepIndex, report });
    byRun.set(parts.runId, items);
  });

  // Every run of the call may lease the runner its next steps, within `next.max` between them:
  // each run up to its own completions, the first run the rest (over the socket, with the waiting
  // tasks taken along for that run).
  const [leadRun] = byRun.keys();
  const next = req.next;
  const asks = next ? shareOf(next, byRun, leadRun) : new Map<string, NextAsk>();
  const leadAsk = leadRun === undefined ? undefined : asks.get(leadRun);
  const along = leadRun !== undefined && leadAsk ? hooks.takeAlong?.(leadRun, leadAsk) : undefined;
  let leadGranted: Lease[] = [];
  const otherGranted: Lease[] = [];
  let untried: Claim[] | "all" = "all";
  await Promise.all(
    [...byRun].map(async ([runId, items]) => {
      const lead = runId === leadRun;
      try {
        const done = await runStub(env, runId).completeMany(
          items.map((i) => ({ stepIndex: i.stepIndex, report: i.report })),
          asks.get(runId),
          lead ? along?.claims : undefined,
        );
        items.forEach((item, k) => {
          const r = done.results[k];
          results[item.at] =
            r && "accepted" in r
              ? { leaseId: item.leaseId, status: 200, body: r }
              : { leaseId: item.leaseId, status: r?.refused.status ?? 500, body: refusedBody(r?.refused) };
        });
        if (lead) ({ next: leadGranted, untried } = done);
        else otherGranted.push(...done.next);
      } catch (err) {
        // The run could not be reached: these completions are answered 500 and sent again.
        console.error(`completions: run ${runId} failed`, err);
        for (const item of items) results[item.at] = refusal(item.leaseId, err);
      }
    }),
  );
  if (along) return { results, next: [...(await along.settle(leadGranted, untried)), ...otherGranted] };
  const granted = [...leadGranted, ...otherGranted];
  // As for one completion: with no step of its run for the runner, any ready step of the pool.
  const leases = next && granted.length === 0 ? await hooks.takeNext(next) : granted;
  return { results, next: leases };
}

/**
 * How `next.max` is shared between the runs of a call: each run, in the call's order, up to the
 * completions it holds that free a slot (those under a real lease), then the first run what is
 * left; never more in all.
 */
function shareOf(next: NextAsk, byRun: Map<string, Item[]>, leadRun: string | undefined): Map<string, NextAsk> {
  const shares = new Map<string, number>();
  let left = next.max;
  for (const [runId, items] of byRun) {
    const max = Math.min(left, items.filter((i) => !i.report.offered).length);
    left -= max;
    shares.set(runId, max);
  }
  if (leadRun !== undefined) shares.set(leadRun, (shares.get(leadRun) ?? 0) + left);
  const asks = new Map<string, NextAsk>();
  for (const [runId, max] of shares) if (max > 0) asks.set(runId, { ...next, max });
  return asks;
}

/**
 * The log entries one completion brings: within its bounds and in increasing seq order, or the
 * completion is refused (it alone), naming the field.
 */
function checkLogs(logs: LogEntry[], at: number): void {
  const field = `completions.${at}.logs`;
  const bytes = textBytes(logs);
  if (bytes > MAX_COMPLETION_LOG_BYTES) {
    throw new AppError(
      "bad_request",
      413,
      `log entries of ${bytes} bytes are over the limit of ${showBytes(MAX_COMPLETION_LOG_BYTES)} for one completion`,
      { field },
    );
  }
  if (logs.length > MAX_COMPLETION_LOG_ENTRIES) {
    throw new AppError(
      "bad_request",
      413,
      `${logs.length} log entries are over the limit of ${MAX_COMPLETION_LOG_ENTRIES} for one completion`,
      { field },
    );
  }
  if (logs.some((e, i) => i > 0 && e.seq <= (logs[i - 1]?.seq ?? 0))) {
    throw new AppError("bad_request", 400, "log entries must be in increasing seq order", { field });
  }
}

function textBytes(logs: LogEntry[]): number {
  return logs.reduce((n, e) => n + utf8Bytes(e.text), 0);
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
