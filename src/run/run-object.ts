// RunObject: one Durable Object per DAG run, the only writer of its run. A thin shell around
// the pure machine: it loads state, feeds events to `transition`, persists what changed in one
// storage transaction, and then performs the effects (dispatch, timers, D1 summary).
import { DurableObject } from "cloudflare:workers";
import { buildExecSpec } from "../dag/exec-spec";
import { parseInstanceName } from "../dag/parallel";
import type { DagDef } from "../dag/types";
import { db, updateRunSummary } from "../db/queries";
import { type DispatchTask, dispatcherFor } from "../dispatch/dispatch-object";
import { type Env, leaseTtlMs } from "../env";
import { fail, type Outcome, ok, unwrap } from "../errors";
import { MAX_OUTPUT_BYTES } from "../limits";
import { LiveRun } from "../live/live-run";
import { admission } from "../queue/queue-object";
import { formatLeaseId } from "../shared/lease-id";
import type { Lease, LogEntry, NextAsk, StepOutcome } from "../shared/protocol";
import { matches, poolOf, type Selector, selectorOf } from "../shared/selector";
import { isTerminalRun, type StepStatus } from "../status";
import type { LogSlice, LogWindow } from "./log-slice";
import { appendLog, clearLog, closeLog, createLogTables, droppedBytes, type LogStream, readLog } from "./log-store";
import {
  createContext,
  type Effect,
  initialState,
  type MachineContext,
  type Reply,
  type RunEvent,
  type RunState,
  type StepState,
  type Transition,
  transition,
} from "./machine";
import { runStub } from "./start-run";
import { stepStats } from "./step-stats";
import { type ParentRef, type SubRunReport, startSubRun } from "./sub-runs";

/** Retry delay for effects that failed (dispatcher or D1 unreachable). */
const EFFECT_RETRY_MS = 1_000;
/**
 * A dispatched step is handed to the dispatcher after its state is stored; if this object is
 * interrupted in between (its caller went away, the server stopped), this timer, stored with
 * the state, hands it over later. Removed once the dispatcher has the task. As late as a new
 * lease's confirmation timer, so that it seldom moves the alarm.
 */
const DISPATCH_SAFETY_MS = 5_000;

export interface RunInit {
  runId: string;
  dag: DagDef;
  params: { named: Array<[string, string]>; positional: string[] };
  /** Params as the user gave them, for display. */
  paramsText: string;
  /** Set for a sub-DAG run: the run whose call step started it. */
  parent?: ParentRef;
}

export interface RunSnapshot {
  dag: DagDef;
  state: RunState;
  paramsText: string;
  parent?: ParentRef;
}

interface StoredInit extends RunInit {
  leaseTtlMs: number;
}

export class RunObject extends DurableObject<Env> {
  private sql: SqlStorage;
  private init?: StoredInit;
  private ctxCache?: MachineContext;
  private state?: RunState;
  /** The alarm time last set by this instance (undefined: unknown, e.g. after a restart). */
  private armedAt?: number | null;
  /** Live sockets of this run (src/live): told of every state change and stored log batch. */
  private live: LiveRun;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.createTables();
    this.load();
    this.live = new LiveRun(ctx, env, this.sql, () => unwrapOr(this.snapshot()));
  }

  private createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS steps (name TEXT PRIMARY KEY, state TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS timers (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS run_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, message TEXT NOT NULL);
    `);
    createLogTables(this.sql);
  }

  private load(): void {
    const rows = this.sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray();
    const meta = new Map(rows.map((r) => [r.key, r.value]));
    const init = meta.get("init");
    const run = meta.get("run");
    if (!init || !run) return;
    this.init = JSON.parse(init) as StoredInit;
    const steps: Record<string, StepState> = {};
    for (const r of this.sql.exec<{ name: string; state: string }>("SELECT name, state FROM steps")) {
      steps[r.name] = JSON.parse(r.state) as StepState;
    }
    const outputs = JSON.parse(meta.get("outputs") ?? "{}") as Record<string, string>;
    this.state = { ...(JSON.parse(run) as Omit<RunState, "steps" | "outputs">), outputs, steps };
  }

  private get machine(): MachineContext {
    if (!this.init) throw new Error("run not initialised");
    this.ctxCache ??= createContext(this.init.dag, this.init.leaseTtlMs, {
      params: this.init.params,
      state: this.state,
    });
    return this.ctxCache;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /**
   * Creates the run and starts it. Idempotent for the same run id. A run that cannot start
   * (its DAG holds a value past today's limits, stored before they were checked) leaves
   * nothing under its id: the caller removes its index row, and the id can be used again.
   */
  async start(input: RunInit): Promise<Outcome<void>> {
    const fresh = !this.init;
    this.prepare(input);
    try {
      await this.fire({ type: "start" });
    } catch (err) {
      if (!fresh) throw err;
      console.error(`run ${input.runId}: could not start`, err);
      await this.wipe();
      return fail(
        "bad_request",
        400,
        `DAG-run ${input.runId} could not start (${(err as Error).message}); save the DAG's spec again to check it against the limits`,
      );
    }
    return ok(undefined);
  }

  /** Creates the run without starting it: `queued` waits for admission (src/queue). */
  prepare(input: RunInit, status: "not_started" | "queued" = "not_started"): Outcome<void> {
    if (!this.init) {
      const init: StoredInit = { ...input, leaseTtlMs: leaseTtlMs(this.env) };
      const state = initialState(input.runId, input.dag, Date.now(), status);
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("INSERT INTO meta (key, value) VALUES ('init', ?)", JSON.stringify(init));
        this.persist(undefined, state);
      });
      this.init = init;
      this.state = state;
    }
    return ok(undefined);
  }

  /** Starts a prepared run that admission let through; answers the status it is in after. */
  async admit(): Promise<Outcome<RunState["status"]>> {
    if (!this.state) return fail("not_found", 404, "run not found");
    await this.fire({ type: "start" });
    return ok(this.state.status);
  }

  async stop(): Promise<Outcome<void>> {
    if (!this.state) return fail("not_found", 404, "run not found");
    await this.fire({ type: "stop" });
    return ok(undefined);
  }

  /** Approves or rejects a step waiting for approval. */
  async approve(stepName: string, approved: boolean, reason?: string): Promise<Outcome<{ status: string }>> {
    if (!this.state) return fail("not_found", 404, "run not found");
    if (!this.state.steps[stepName]) return fail("not_found", 404, `step "${stepName}" not found in this run`);
    const { reply } = await this.fire({ type: "approve", step: stepName, approved, reason });
    if (reply.kind !== "approval" || !reply.ok) {
      const status = reply.kind === "approval" ? reply.status : "unknown";
      return fail("bad_request", 400, `step "${stepName}" is not waiting for approval (it is ${status})`, {
        field: "stepName",
        status,
      });
    }
    return ok({ status: reply.status });
  }

  /**
   * Runs steps of a finished run again, in place (same run id, params, env and working
   * directory): one step (with `dependents`, everything downstream of it too), the failed,
   * aborted and rejected ones (`failedOnly`), or every step.
   */
  async retry(opts: { stepName?: string; dependents?: boolean; failedOnly?: boolean }): Promise<Outcome<string[]>> {
    if (!this.state || !this.init) return fail("not_found", 404, "run not found");
    const ctx = this.machine;
    const own = ctx.dag.steps.map((s) => s.name);
    let names = own;
    if (opts.stepName !== undefined) {
      if (!own.includes(opts.stepName)) {
        // An instance a fan-out step added at run time runs again with its step.
        const fanout = this.state.steps[opts.stepName] ? parseInstanceName(opts.stepName)?.parent : undefined;
        if (fanout && own.includes(fanout)) {
          return fail(
            "bad_request",
            400,
            `step "${opts.stepName}" is an instance of the fan-out step "${fanout}": retry "${fanout}", which runs every instance again`,
            { field: "stepName" },
          );
        }
        return fail("not_found", 404, `step "${opts.stepName}" not found in this run`, { field: "stepName" });
      }
      const set = new Set([opts.stepName]);
      for (const name of set) if (opts.dependents) for (const n of ctx.dependents.get(name) ?? []) set.add(n);
      names = own.filter((n) => set.has(n));
    } else if (opts.failedOnly) {
      const failed = new Set(["failed", "aborted", "rejected"]);
      names = own.filter((n) => failed.has(this.state?.steps[n]?.status ?? ""));
      if (!names.length) {
        return fail("bad_request", 400, "the run has no failed, aborted or rejected step to retry", {
          field: "failedOnly",
        });
      }
    }
    const all = opts.stepName === undefined && !opts.failedOnly;
    const { reply } = await this.fire({ type: "retry", steps: names, all });
    if (reply.kind !== "manual" || !reply.ok) {
      const why = reply.kind === "manual" ? reply.reason : "unexpected reply";
      return fail("not_running", 400, `only a finished run can be retried: ${why}`);
    }
    return ok(names);
  }

  /** Sets a step's status by hand on a finished run; the run's status is derived again. */
  async setStepStatus(stepName: string, status: StepStatus): Promise<Outcome<void>> {
    if (!this.state) return fail("not_found", 404, "run not found");
    if (!this.state.steps[stepName]) return fail("not_found", 404, `step "${stepName}" not found in this run`);
    const { reply } = await this.fire({ type: "setStatus", step: stepName, status });
    if (reply.kind !== "manual" || !reply.ok) {
      const why = reply.kind === "manual" ? reply.reason : "unexpected reply";
      return fail("bad_request", 400, `cannot set the status of step "${stepName}": ${why}`);
    }
    return ok(undefined);
  }

  /** Deletes everything this run stored. Refused while the run is not finished. */
  async destroy(): Promise<Outcome<void>> {
    if (this.state && !isTerminalRun(this.state.status)) {
      return fail(
        "not_running",
        409,
        `run ${this.state.runId} is ${this.state.status}; only finished runs are removed`,
      );
    }
    await this.wipe();
    return ok(undefined);
  }

  private async wipe(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.init = undefined;
    this.state = undefined;
    this.ctxCache = undefined;
    this.armedAt = undefined;
    // The same id may be used again while this instance lives.
    this.createTables();
  }

  snapshot(): Outcome<RunSnapshot> {
    if (!this.init || !this.state) return fail("not_found", 404, "run not found");
    const { dag, paramsText, parent } = this.init;
    return ok({ dag, state: this.state, paramsText, ...(parent && { parent }) });
  }

  // ---- live sockets (src/live) -------------------------------------------------------------

  override fetch(request: Request): Promise<Response> {
    return this.live.connect(request);
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    this.live.message(ws, message);
  }

  // ---- sub-DAG runs ------------------------------------------------------------------------

  /** A sub-DAG run this run started has ended (called by that run; repeats are harmless). */
  async childFinished(report: SubRunReport): Promise<Outcome<void>> {
    // A parent removed in the meantime has nothing to mirror.
    if (!this.state?.steps[report.step]) return ok(undefined);
    await this.fire({ type: "childDone", ...report });
    return ok(undefined);
  }

  /** Creates and starts a call step's sub-DAG run; on failure the `child:` timer tries again. */
  private async startChild(stepName: string): Promise<void> {
    const timer = `child:${stepName}`;
    const s = this.state?.steps[stepName];
    const def = this.machine.stepsByName.get(stepName);
    if (!this.init || !this.state || !s?.child || s.status !== "running" || !def) {
      this.clearTimer(timer);
      return;
    }
    const childRunId = s.child.runId;
    try {
      const started = await startSubRun(this.env, { init: this.init, state: this.state }, def, childRunId);
      this.clearTimer(timer);
      if (!started.ok) {
        await this.fire({
          type: "childDone",
          step: stepName,
          childRunId,
          status: "failed",
          outputs: {},
          paramsText: "",
          error: started.error,
        });
      } else if (this.state.steps[stepName]?.child?.stopRequested) {
        // A stop that came while the child was being created found nothing to stop.
        await this.stopChild(childRunId);
      }
    } catch (err) {
      console.error(`run ${this.init.runId}: sub-DAG run ${childRunId} could not be started, retrying`, err);
      this.setTimer(timer, Date.now() + EFFECT_RETRY_MS);
      await this.armAlarm();
    }
  }

  /** Stops a sub-DAG run; on failure the `stopchild:` timer tries again. */
  private async stopChild(childRunId: string): Promise<void> {
    const timer = `stopchild:${childRunId}`;
    try {
      // not_found: not created yet; startChild stops it once it is.
      await runStub(this.env, childRunId).stop();
      this.clearTimer(timer);
    } catch (err) {
      console.error(`run ${this.init?.runId}: sub-DAG run ${childRunId} could not be stopped, retrying`, err);
      this.setTimer(timer, Date.now() + EFFECT_RETRY_MS);
      await this.armAlarm();
    }
  }

  // ---- runner protocol ---------------------------------------------------------------------

  /** Turns a dispatch into a lease for a runner, or null when the dispatch is stale. */
  async claim(stepName: string, dispatchSeq: number, runnerId: string): Promise<Lease | null> {
    return (await this.claimMany([{ step: stepName, dispatchSeq }], runnerId))[0] ?? null;
  }

  /**
   * Turns several dispatches of this run into leases for one runner, in one storage
   * transaction; stale ones are left out.
   */
  async claimMany(claims: Array<{ step: string; dispatchSeq: number }>, runnerId: string): Promise<Lease[]> {
    const known = claims.filter((c) => this.machine.stepsByName.has(c.step));
    if (!this.state || known.length === 0) return [];
    const [first, ...rest] = known.map((c) => this.claimEvent(this.machine, c.step, c.dispatchSeq, runnerId));
    if (!first) return [];
    const { granted } = await this.fire(first, Date.now(), () => rest);
    return granted;
  }

  /** A claim of a step of `context` (fan-out instances included) with a fresh fencing token. */
  private claimEvent(
    context: MachineContext,
    step: string,
    dispatchSeq: number,
    runnerId: string,
  ): Extract<RunEvent, { type: "claim" }> {
    const runId = this.init?.runId ?? "";
    const stepIndex = context.allSteps.findIndex((s) => s.name === step);
    const leaseId = formatLeaseId({ runId, stepIndex, dispatchSeq });
    return { type: "claim", step, dispatchSeq, runnerId, leaseId, token: randomToken() };
  }

  /** The lease handed to a runner for a claim the machine granted. */
  private leaseFor(claim: Extract<RunEvent, { type: "claim" }>, attempt: number): Lease | undefined {
    const def = this.machine.stepsByName.get(claim.step);
    if (!this.init || !this.state || !def) return undefined;
    return {
      leaseId: claim.leaseId,
      token: claim.token,
      runId: this.init.runId,
      dagName: this.init.dag.name,
      stepName: claim.step,
      attempt,
      ttlMs: this.init.leaseTtlMs,
      heartbeatIntervalMs: Math.max(100, Math.floor(this.init.leaseTtlMs / 3)),
      exec: buildExecSpec(this.init.dag, def, {
        runId: this.init.runId,
        params: this.init.params,
        outputs: this.state.outputs,
        maxOutputBytes: this.init.dag.maxOutputSize ?? MAX_OUTPUT_BYTES,
        runStatus: this.state.handlers?.status,
      }),
    };
  }

  async heartbeat(stepIndex: number, token: string): Promise<Outcome<{ cancel: boolean; ttlMs: number }>> {
    const step = this.stepAt(stepIndex);
    if (!step || !this.init) return staleLease("unknown lease");
    const { reply } = await this.fire({ type: "heartbeat", step, token });
    if (reply.kind !== "heartbeat") return staleFrom(reply);
    return ok({ cancel: reply.cancel, ttlMs: this.init.leaseTtlMs });
  }

  appendLogs(stepIndex: number, token: string, entries: LogEntry[]): Outcome<{ ackedSeq: number }> {
    const step = this.stepAt(stepIndex);
    const s = step ? this.state?.steps[step] : undefined;
    if (!step || !s || s.status !== "running" || s.lease?.token !== token) {
      return staleLease("lease is no longer current");
    }
    const key = { step, attempt: s.attempt };
    const acked = this.ctx.storage.transactionSync(() => appendLog(this.sql, key, entries));
    this.live.logsAppended(step);
    return ok(acked);
  }

  /**
   * Accepts a result. With `next`, steps this result made ready are leased straight to the
   * same runner (up to `max`, those whose workerSelector its labels match), in the same storage
   * transaction as the result: a chain costs one call and one transaction per step.
   */
  async complete(
    stepIndex: number,
    report: { token: string; outcome: StepOutcome; droppedLogBytes: number },
    next?: NextAsk,
  ): Promise<Outcome<{ accepted: boolean; next: Lease[] }>> {
    const step = this.stepAt(stepIndex);
    if (!step) return staleLease("unknown lease");
    const attempt = this.state?.steps[step]?.attempt;
    const handOff = (t: Transition): RunEvent[] => {
      if (!next || t.reply.kind !== "completed" || !t.reply.accepted) return [];
      const ready = t.effects.flatMap((e) => (e.type === "dispatch" ? [e] : []));
      return ready
        .filter((e) => matches(this.selectorOf(e.step, t.context), next.labels))
        .slice(0, next.max)
        .map((e) => this.claimEvent(t.context, e.step, e.dispatchSeq, next.runnerId));
    };
    const { reply, granted } = await this.fire(
      { type: "complete", step, token: report.token, result: report.outcome },
      Date.now(),
      handOff,
    );
    if (reply.kind !== "completed") return staleFrom(reply);
    if (reply.accepted && attempt !== undefined) this.countRunnerDrops(step, attempt, report.droppedLogBytes);
    return ok({ accepted: reply.accepted, next: granted });
  }

  /**
   * Output the runner could not ship (its step log says why) counts in the attempt's
   * `droppedBytes` beside what the server itself dropped. Once: only an accepted completion.
   */
  private countRunnerDrops(step: string, attempt: number, bytes: number): void {
    if (bytes <= 0) return;
    this.sql.exec(
      `INSERT INTO log_meta (step, attempt, acked_seq, bytes, dropped_bytes) VALUES (?, ?, 0, 0, ?)
       ON CONFLICT (step, attempt) DO UPDATE SET dropped_bytes = dropped_bytes + excluded.dropped_bytes`,
      step,
      attempt,
      bytes,
    );
    this.appendRunLog(`step ${step}: the runner dropped ${bytes} bytes of its log (the step's log says why)`);
  }

  async release(stepIndex: number, token: string, reason: string): Promise<Outcome<void>> {
    const step = this.stepAt(stepIndex);
    if (!step) return staleLease("unknown lease");
    const { reply } = await this.fire({ type: "release", step, token, reason });
    if (reply.kind === "stale") return staleFrom(reply);
    return ok(undefined);
  }

  // ---- logs --------------------------------------------------------------------------------

  /** A window of one stream of one attempt (the latest by default), with what was dropped. */
  stepLog(
    stepName: string,
    stream: LogStream,
    window: LogWindow,
    attempt?: number,
  ): Outcome<LogSlice & { attempt: number; droppedBytes: number }> {
    const s = this.state?.steps[stepName];
    if (!s) return fail("not_found", 404, `step "${stepName}" not found in this run`);
    const which = attempt ?? s.attempt;
    if (attempt !== undefined && attempt > s.attempt) {
      const has = s.attempt === 0 ? "has not run yet" : `has attempts 1 to ${s.attempt}`;
      return fail("not_found", 404, `step "${stepName}" has no attempt ${attempt} (it ${has})`, {
        field: "attempt",
      });
    }
    const key = { step: stepName, attempt: which };
    // No more entries come for an attempt that is over: what followed a gap can be shown.
    if (s.status !== "running" || which !== s.attempt) closeLog(this.sql, key);
    const slice = readLog(this.sql, key, stream, window);
    return ok({ ...slice, attempt: which, droppedBytes: droppedBytes(this.sql, key) });
  }

  runLog(): Outcome<string> {
    if (!this.state) return fail("not_found", 404, "run not found");
    const lines: string[] = [];
    for (const r of this.sql.exec<{ at: number; message: string }>("SELECT at, message FROM run_log ORDER BY id")) {
      lines.push(`${new Date(r.at).toISOString()} ${r.message}`);
    }
    return ok(lines.length ? `${lines.join("\n")}\n` : "");
  }

  // ---- timers ------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.armedAt = undefined;
    // Timers up to the time the alarm was armed for are due even if the clock reads a little
    // earlier (or a test fires the alarm ahead of time); later timers are not, since the alarm
    // may have been armed early (see armAlarm). Each event happens at its timer's time.
    const armedFor = Number(
      this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'alarm_at'").toArray()[0]?.value ?? 0,
    );
    const dueBy = Math.max(Date.now(), armedFor);
    const due = this.sql
      .exec<{ key: string; at: number }>("SELECT key, at FROM timers WHERE at <= ? ORDER BY at", dueBy)
      .toArray();
    for (const { key, at } of due) {
      // A timer moved or cleared by an earlier event of this loop is no longer due.
      if (this.sql.exec("DELETE FROM timers WHERE key = ? AND at = ?", key, at).rowsWritten === 0) continue;
      if (key.startsWith("enqueue:")) await this.enqueue([key.slice("enqueue:".length)]);
      else if (key.startsWith("child:")) await this.startChild(key.slice("child:".length));
      else if (key.startsWith("stopchild:")) await this.stopChild(key.slice("stopchild:".length));
      else if (key === "summary") await this.writeSummary();
      else await this.fire({ type: "timer", key }, Math.max(Date.now(), at));
    }
    await this.armAlarm();
  }

  // ---- the shell around the machine ----------------------------------------------------------

  /**
   * Applies one event, then the claims `follow` derives from its transition (a completion's
   * hand-off of the steps it made ready to the same runner), and stores it all in one
   * transaction. Dispatched steps that no claim took go to the dispatcher.
   */
  private async fire(
    event: RunEvent,
    now = Date.now(),
    follow?: (t: Transition) => RunEvent[],
  ): Promise<{ reply: Reply; granted: Lease[] }> {
    const before = this.state;
    if (!before) return { reply: { kind: "stale", reason: "run not found" }, granted: [] };
    const first = transition(this.machine, before, event, now);
    let { state, context } = first;
    const effects = [...first.effects];
    const claims: Array<{ event: Extract<RunEvent, { type: "claim" }>; attempt: number }> = [];
    if (event.type === "claim" && first.reply.kind === "claimed") claims.push({ event, attempt: first.reply.attempt });
    for (const e of follow?.(first) ?? []) {
      const t = transition(context, state, e, now);
      if (e.type === "claim" && t.reply.kind === "claimed") claims.push({ event: e, attempt: t.reply.attempt });
      ({ state, context } = t);
      effects.push(...t.effects);
    }
    const claimed = new Set(claims.map((c) => c.event.step));
    const toEnqueue: string[] = [];
    const lostRunners: Array<{ runnerId: string; at: number }> = [];
    const children: Array<Extract<Effect, { type: "startChild" | "stopChild" }>> = [];
    let statusChanged = false;
    this.ctx.storage.transactionSync(() => {
      this.persist(before, state);
      for (const e of effects) {
        if (e.type === "dispatch") {
          if (claimed.has(e.step)) continue;
          toEnqueue.push(e.step);
          this.setTimer(`enqueue:${e.step}`, now + DISPATCH_SAFETY_MS);
        } else if (e.type === "runStatus") statusChanged = true;
        else if (e.type === "runnerLost") lostRunners.push(e);
        else if (e.type === "startChild" || e.type === "stopChild") {
          // Stored with the state, like a dispatch: done later if this object is interrupted.
          children.push(e);
          this.setTimer(childTimer(e), now + DISPATCH_SAFETY_MS);
        } else this.applyStorageEffect(e);
      }
      // An attempt number is used again after a lease that was never confirmed: what that
      // lease logged before it was taken back is not this attempt's.
      for (const c of claims) clearLog(this.sql, { step: c.event.step, attempt: c.attempt });
    });
    this.state = state;
    this.ctxCache = context;
    const granted = claims.flatMap((c) => this.leaseFor(c.event, c.attempt) ?? []);
    this.live.changed(before, state);
    // The dispatcher hears of a lost runner before it sees the re-dispatched step.
    if (lostRunners.length) await this.reportLostRunners(lostRunners);
    if (toEnqueue.length) await this.enqueue(toEnqueue);
    for (const e of children) await (e.type === "startChild" ? this.startChild(e.step) : this.stopChild(e.childRunId));
    if (statusChanged) await this.writeSummary();
    await this.armAlarm();
    return { reply: first.reply, granted };
  }

  private applyStorageEffect(e: Effect): void {
    switch (e.type) {
      case "setTimer":
        this.setTimer(e.key, e.at);
        return;
      case "clearTimer":
        this.clearTimer(e.key);
        return;
      case "log":
        this.appendRunLog(e.message);
        return;
      case "dispatch":
      case "runStatus":
      case "runnerLost":
      case "startChild":
      case "stopChild":
        return;
    }
  }

  private appendRunLog(message: string): void {
    this.sql.exec("INSERT INTO run_log (at, message) VALUES (?, ?)", Date.now(), message);
  }

  /** Writes the run row and what changed (by identity: the machine copies on write). */
  private persist(before: RunState | undefined, after: RunState): void {
    const { steps, outputs, ...run } = after;
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('run', ?)", JSON.stringify(run));
    if (before?.outputs !== outputs) {
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('outputs', ?)", JSON.stringify(outputs));
    }
    for (const [name, s] of Object.entries(steps)) {
      if (before?.steps[name] !== s) {
        this.sql.exec("INSERT OR REPLACE INTO steps (name, state) VALUES (?, ?)", name, JSON.stringify(s));
      }
    }
  }

  private async reportLostRunners(lost: Array<{ runnerId: string; at: number }>): Promise<void> {
    try {
      // A runner polls one pool; tell every pool this run's steps go to.
      const pools = new Set(this.machine.allSteps.map((s) => poolOf(this.selectorOf(s.name))));
      await Promise.all([...pools].map((p) => dispatcherFor(this.env, p).runnersLost(lost)));
    } catch (err) {
      // Worst case a dead runner's leftover poll takes a lease, which then goes unconfirmed.
      console.error("dispatcher unreachable while reporting lost runners", err);
    }
  }

  /** Hands dispatched steps to the dispatcher; on failure a timer tries again. */
  private async enqueue(stepNames: string[]): Promise<void> {
    if (!this.init || !this.state) return;
    const runId = this.init.runId;
    const tasks: DispatchTask[] = [];
    for (const name of stepNames) {
      const s = this.state.steps[name];
      if (s?.queued) tasks.push({ runId, step: name, dispatchSeq: s.dispatchSeq, selector: this.selectorOf(name) });
    }
    const handedOver = () => {
      for (const name of stepNames) this.clearTimer(`enqueue:${name}`);
    };
    if (!tasks.length) return handedOver();
    try {
      const byPool = new Map<string, DispatchTask[]>();
      for (const t of tasks) byPool.set(poolOf(t.selector), [...(byPool.get(poolOf(t.selector)) ?? []), t]);
      await Promise.all([...byPool].map(([pool, ts]) => dispatcherFor(this.env, pool).enqueue(ts)));
      handedOver();
    } catch (err) {
      console.error(`run ${this.init.runId}: dispatcher unreachable, retrying`, err);
      const at = Date.now() + EFFECT_RETRY_MS;
      for (const t of tasks) this.setTimer(`enqueue:${t.step}`, at);
      await this.armAlarm();
    }
  }

  /** The D1 summary row follows run-level transitions; a failed write is retried by timer. */
  private async writeSummary(): Promise<void> {
    if (!this.state) return;
    const s = this.state;
    try {
      await updateRunSummary(db(this.env.DB), s.runId, {
        status: s.status,
        startedAt: s.startedAt ?? null,
        finishedAt: s.finishedAt ?? null,
        steps: isTerminalRun(s.status) ? JSON.stringify(stepStats(s)) : null,
        updatedAt: Date.now(),
      });
      const parent = this.init?.parent;
      if (isTerminalRun(s.status) && parent) {
        // A sub-DAG run's end is its calling step's end.
        const report: SubRunReport = {
          step: parent.step,
          childRunId: s.runId,
          status: s.status,
          outputs: s.outputs,
          paramsText: this.init?.paramsText ?? "",
        };
        unwrap((await runStub(this.env, parent.runId).childFinished(report)) as Outcome<void>);
      } else if (isTerminalRun(s.status)) {
        // A finished run frees its admission slot (and lets retention look at its DAG).
        await admission(this.env).finished(s.runId, s.dagName, this.init?.dag.histRetentionDays);
      }
    } catch (err) {
      console.error(`run ${s.runId}: D1 summary or admission unreachable, retrying`, err);
      this.setTimer("summary", Date.now() + EFFECT_RETRY_MS);
    }
  }

  /** Sets or moves a timer (the alarm follows at the next armAlarm). */
  private setTimer(key: string, at: number): void {
    this.sql.exec("INSERT OR REPLACE INTO timers (key, at) VALUES (?, ?)", key, at);
  }

  private clearTimer(key: string): void {
    this.sql.exec("DELETE FROM timers WHERE key = ?", key);
  }

  /**
   * One alarm serves the timers table, armed no later than the earliest row. It is moved only
   * when a timer comes due sooner than it: lease timers move later on every claim and heartbeat,
   * and an alarm that finds nothing due simply re-arms (alarm() clears `armedAt` first). This
   * keeps storage alarm writes off the per-step path.
   */
  private async armAlarm(): Promise<void> {
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM timers").one().at;
    if (next === null) {
      if (this.armedAt === undefined) {
        await this.ctx.storage.deleteAlarm();
        this.armedAt = null;
      }
      return;
    }
    if (this.armedAt != null && this.armedAt <= next) return;
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('alarm_at', ?)", String(next));
    await this.ctx.storage.setAlarm(next);
    this.armedAt = next;
  }

  /**
   * The step's effective workerSelector, its pool included. Every step of the run has one, the
   * handlers and the DAG-preconditions check too: they run in the DAG's pool, like its steps.
   */
  private selectorOf(stepName: string, context = this.machine): Selector {
    return selectorOf(this.init?.dag ?? {}, context.stepsByName.get(stepName) ?? {});
  }

  private stepAt(index: number): string | undefined {
    return this.init ? this.machine.allSteps[index]?.name : undefined;
  }
}

function childTimer(e: Extract<Effect, { type: "startChild" | "stopChild" }>): string {
  return e.type === "startChild" ? `child:${e.step}` : `stopchild:${e.childRunId}`;
}

function unwrapOr<T>(o: Outcome<T>): T | undefined {
  return o.ok ? o.value : undefined;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function staleLease(reason: string): Outcome<never> {
  return fail("not_running", 409, `lease is not current: ${reason}`, { reason });
}

function staleFrom(reply: Reply): Outcome<never> {
  return staleLease(reply.kind === "stale" ? reply.reason : "unexpected state");
}
