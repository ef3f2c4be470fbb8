// RunObject: one Durable Object per DAG run, the only writer of its run. A thin shell: each RPC
// method is a call into ./object/, where the run lives (run-core.ts: the state in memory and
// `fire`, which feeds events to the pure engine, stores what changed in one transaction and
// performs the effects) and one module per concern handles the calls (lifecycle, manual
// operations, the runner protocol's leases and completions, logs).
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type Outcome, ok } from "../errors";
import type { Lease, LogEntry, NextAsk } from "../shared/protocol";
import type { FinalStepStatus } from "../status";
import { timingMark } from "../timing";
import type { RunState } from "./engine";
import type { LogSlice, LogWindow } from "./log-slice";
import type { LogStream } from "./log-store";
import * as completions from "./object/completions";
import { staleLease } from "./object/lease-errors";
import * as leases from "./object/leases";
import * as lifecycle from "./object/lifecycle";
import * as logs from "./object/logs";
import * as manual from "./object/manual";
import type { Claim, CompletionReport, CompletionResultData, RunInit, RunSnapshot, SubRunReport } from "./object/rpc";
import { RunCore } from "./object/run-core";

export class RunObject extends DurableObject<Env> {
  private run: RunCore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.run = new RunCore(ctx, env);
  }

  // ---- lifecycle (object/lifecycle.ts) ------------------------------------------------------

  /** Creates the run and starts it; idempotent for the same run id. A run that cannot start leaves nothing. */
  start(input: RunInit): Promise<Outcome<void>> {
    return lifecycle.start(this.run, input);
  }

  /** Creates the run without starting it: `queued` waits for admission (src/queue). */
  prepare(input: RunInit, status: "not_started" | "queued" = "not_started"): Outcome<void> {
    this.run.prepare(input, status);
    return ok(undefined);
  }

  /** Starts a prepared run that admission let through; answers the status it is in after. */
  admit(): Promise<Outcome<RunState["status"]>> {
    return lifecycle.admit(this.run);
  }

  stop(): Promise<Outcome<void>> {
    return lifecycle.stop(this.run);
  }

  /** A sub-DAG run this run started has ended (called by that run; repeats are harmless). */
  childFinished(report: SubRunReport): Promise<Outcome<void>> {
    return lifecycle.childFinished(this.run, report);
  }

  /** Deletes everything this run stored. Refused while the run is not finished. */
  destroy(): Promise<Outcome<void>> {
    return lifecycle.destroy(this.run);
  }

  // ---- manual operations (object/manual.ts) -------------------------------------------------

  /** Approves or rejects a step waiting for approval. */
  approve(stepName: string, approved: boolean, reason?: string): Promise<Outcome<{ status: string }>> {
    return manual.approve(this.run, stepName, approved, reason);
  }

  /**
   * Runs steps of a finished run again, in place (same run id, params, env and working
   * directory): one step (with `dependents`, everything downstream of it too), the failed,
   * aborted and rejected ones (`failedOnly`), or every step.
   */
  retry(opts: manual.RetryOptions): Promise<Outcome<string[]>> {
    return manual.retry(this.run, opts);
  }

  /** Sets a step's status by hand on a finished run; the run's status is derived again. */
  setStepStatus(stepName: string, status: FinalStepStatus): Promise<Outcome<void>> {
    return manual.setStepStatus(this.run, stepName, status);
  }

  // ---- reads and live sockets (src/live) ----------------------------------------------------

  snapshot(): Outcome<RunSnapshot> {
    return this.run.snapshot();
  }

  override fetch(request: Request): Promise<Response> {
    return this.run.live.connect(request);
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    this.run.live.message(ws, message);
  }

  // ---- runner protocol (object/leases.ts, object/completions.ts) ----------------------------

  /** Turns a dispatch into a lease for a runner, or null when the dispatch is stale. */
  async claim(stepName: string, dispatchSeq: number, runnerId: string): Promise<Lease | null> {
    return (await leases.claimMany(this.run, [{ step: stepName, dispatchSeq }], runnerId))[0] ?? null;
  }

  /**
   * Turns several dispatches of this run into leases for one runner, in one storage
   * transaction; stale ones are left out.
   */
  claimMany(claims: Claim[], runnerId: string): Promise<Lease[]> {
    if (this.run.init) timingMark(this.env, "claimCalled", this.run.init.runId);
    return leases.claimMany(this.run, claims, runnerId);
  }

  heartbeat(stepIndex: number, token: string): Promise<Outcome<{ cancel: boolean; ttlMs: number }>> {
    return leases.heartbeat(this.run, stepIndex, token);
  }

  /**
   * Accepts a result. With `next`, steps this result made ready are leased straight to the
   * same runner (up to `max`, those whose workerSelector its labels match), in the same storage
   * transaction as the result: a chain costs one call and one transaction per step. `claims`
   * are dispatches of this run the dispatcher took for the same runner (waiting steps of a wide
   * run): they are claimed in that transaction too, after the steps this result made ready, so a
   * wide step also costs one call. `untried` are the claims left out (no room, or the result
   * was refused): the dispatcher keeps them for the next runner.
   */
  async complete(
    stepIndex: number,
    report: CompletionReport,
    next?: NextAsk,
    claims: Claim[] = [],
  ): Promise<Outcome<{ accepted: boolean; next: Lease[]; untried: Claim[] }>> {
    const many = await completions.completeOutcomes(this.run, [{ stepIndex, report }], next, claims);
    const [result] = many.results;
    if (!result?.ok) return result ?? staleLease("unknown lease");
    return ok({ accepted: result.value.accepted, next: many.next, untried: many.untried });
  }

  /**
   * Accepts several results of one runner in one storage transaction (a runner that finished
   * several steps reports them in one call), each answered on its own: a stale one is refused
   * and the others are accepted. `next` and `claims` as for `complete`, after all of them.
   */
  async completeMany(
    reports: Array<{ stepIndex: number; report: CompletionReport }>,
    next?: NextAsk,
    claims: Claim[] = [],
  ): Promise<{ results: CompletionResultData[]; next: Lease[]; untried: Claim[] }> {
    const many = await completions.completeOutcomes(this.run, reports, next, claims);
    return { ...many, results: many.results.map(completions.resultData) };
  }

  release(stepIndex: number, token: string, reason: string): Promise<Outcome<void>> {
    return leases.release(this.run, stepIndex, token, reason);
  }

  // ---- logs (object/logs.ts) ----------------------------------------------------------------

  appendLogs(stepIndex: number, token: string, entries: LogEntry[]): Outcome<{ ackedSeq: number }> {
    return logs.appendLogs(this.run, stepIndex, token, entries);
  }

  /** A window of one stream of one attempt (the latest by default), with what was dropped. */
  stepLog(
    stepName: string,
    stream: LogStream,
    window: LogWindow,
    attempt?: number,
  ): Outcome<LogSlice & { attempt: number; droppedBytes: number }> {
    return logs.stepLog(this.run, stepName, stream, window, attempt);
  }

  runLog(): Outcome<string> {
    return logs.runLog(this.run);
  }

  // ---- timers (object/run-core.ts, object/timers.ts) ----------------------------------------

  override alarm(): Promise<void> {
    return this.run.alarm();
  }
}
