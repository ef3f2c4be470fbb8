// RunObject: one Durable Object per DAG run, the only writer of its run. A thin shell around
// the pure machine: it loads state, feeds events to `transition`, persists what changed in one
// storage transaction, and then performs the effects. Its parts live in ./object/: the schema
// and its migrations, the run store, the timers table and alarm, the outbox, the lease errors.
import { DurableObject } from "cloudflare:workers";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../migrations/do/run/migrations.js";
import { buildExecSpec } from "../dag/exec-spec";
import { parseInstanceName } from "../dag/parallel";
import type { DagDef } from "../dag/types";
import { migrateOnStart, type ObjectDb, objectDb } from "../do-storage";
import { type Env, leaseTtlMs } from "../env";
import { type ErrorCode, fail, type Outcome, ok } from "../errors";
import { MAX_OUTPUT_BYTES } from "../limits";
import { LiveRun } from "../live/live-run";
import { formatLeaseId } from "../shared/lease-id";
import type { Lease, LogEntry, NextAsk, StepOutcome } from "../shared/protocol";
import { matches, type Selector, selectorOf } from "../shared/selector";
import { type FinalStepStatus, isTerminalRun } from "../status";
import { webhookSubscriptions } from "../webhooks/registry";
import {
  createContext,
  DAG_ENV_STEP,
  initialState,
  inStepOrder,
  leaseOf,
  type MachineContext,
  type Reply,
  type RunEvent,
  type RunState,
  type Transition,
  transition,
} from "./engine";
import type { LogSlice, LogWindow } from "./log-slice";
import { addDroppedBytes, appendLog, clearLog, closeLog, droppedBytes, type LogStream, readLog } from "./log-store";
import { staleFrom, staleLease } from "./object/lease-errors";
import { type Deliveries, Outbox } from "./object/outbox";
import { type RunInit, RunStore, type StoredInit } from "./object/run-store";
import * as schema from "./object/schema";
import { firedTimer } from "./object/timer-keys";
import { TimerTable } from "./object/timers";
import { WebhookOutbox } from "./object/webhook-outbox";
import { stepRefValues } from "./step-refs";
import type { ParentRef, SubRunReport } from "./sub-runs";

export type { RunInit };

/** A dispatch of a step of this run that a runner's request took: the step and its dispatchSeq. */
export interface Claim {
  step: string;
  dispatchSeq: number;
}

/** A runner's report of one attempt, as `complete` takes it. */
export interface CompletionReport {
  token: string;
  outcome: StepOutcome;
  droppedLogBytes: number;
}

/** One completion's answer, as `completeMany` gives it. */
export type CompletionResultData =
  | { accepted: boolean }
  | { refused: { code: ErrorCode; status: number; message: string } };

export interface RunSnapshot {
  dag: DagDef;
  state: RunState;
  paramsText: string;
  parent?: ParentRef;
}

export class RunObject extends DurableObject<Env> {
  /** The raw SQL API, for the log store (src/run/log-store.ts); tables come from ./object/schema. */
  private sql: SqlStorage;
  private db: ObjectDb<typeof schema>;
  private store: RunStore;
  private timers: TimerTable;
  private outbox: Outbox;
  private webhooks: WebhookOutbox;
  private init?: StoredInit;
  private ctxCache?: MachineContext;
  private state?: RunState;
  /** Live sockets of this run (src/live): told of every state change and stored log batch. */
  private live: LiveRun;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.db = objectDb(ctx, schema);
    this.store = new RunStore(this.db);
    this.timers = new TimerTable(this.db, ctx.storage);
    this.outbox = new Outbox({
      env,
      timers: this.timers,
      store: this.store,
      current: () =>
        this.init && this.state ? { init: this.init, state: this.state, machine: this.machine } : undefined,
      selectorOf: (name) => this.selectorOf(name),
      fire: (event) => this.fire(event),
    });
    this.webhooks = new WebhookOutbox(env, this.sql, this.timers);
    this.live = new LiveRun(ctx, env, this.sql, () => unwrapOr(this.snapshot()));
    // Migrations (migrations/do/run) and the load run before any call or alarm arrives.
    migrateOnStart(ctx, this.db, migrations, () => this.load());
  }

  private load(): void {
    const stored = this.store.load();
    this.init = stored?.init;
    this.state = stored?.state;
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
      const init: StoredInit = { ...input, leaseTtlMs: leaseTtlMs(this.env), viaAdmission: status === "queued" };
      const state = initialState(input.runId, input.dag, Date.now(), status);
      this.atomically(() => {
        this.store.saveInit(init);
        this.store.persist(state);
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
  async setStepStatus(stepName: string, status: FinalStepStatus): Promise<Outcome<void>> {
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
    await this.timers.reset();
    await this.ctx.storage.deleteAll();
    this.store.forget();
    this.init = undefined;
    this.state = undefined;
    this.ctxCache = undefined;
    // The same id may be used again while this instance lives.
    await migrate(this.db, migrations);
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

  // ---- runner protocol ---------------------------------------------------------------------

  /** Turns a dispatch into a lease for a runner, or null when the dispatch is stale. */
  async claim(stepName: string, dispatchSeq: number, runnerId: string): Promise<Lease | null> {
    return (await this.claimMany([{ step: stepName, dispatchSeq }], runnerId))[0] ?? null;
  }

  /**
   * Turns several dispatches of this run into leases for one runner, in one storage
   * transaction; stale ones are left out.
   */
  async claimMany(claims: Claim[], runnerId: string): Promise<Lease[]> {
    if (!this.state) return [];
    // A step this run does not have gets no lease, like any stale dispatch.
    const [first, ...rest] = claims.flatMap(
      (c) => this.claimEvent(this.machine, c.step, c.dispatchSeq, runnerId) ?? [],
    );
    if (!first) return [];
    const { granted } = await this.fire(first, Date.now(), () => rest);
    return granted;
  }

  /**
   * A claim of a step of `context` (fan-out instances included) with a fresh fencing token, or
   * undefined when the context has no such step: its lease id could not name it.
   */
  private claimEvent(
    context: MachineContext,
    step: string,
    dispatchSeq: number,
    runnerId: string,
  ): Extract<RunEvent, { type: "claim" }> | undefined {
    const stepIndex = context.indexOf.get(step);
    if (stepIndex === undefined || !this.init) return undefined;
    const leaseId = formatLeaseId({ runId: this.init.runId, stepIndex, dispatchSeq });
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
        steps: stepRefValues(this.init.dag, this.state),
        evaluatedEnv: this.state.steps[DAG_ENV_STEP]?.envValues,
        stepEnv: this.state.steps[claim.step]?.envValues,
        reportDagEnv: claim.step === DAG_ENV_STEP,
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
    if (!step || !s || leaseOf(s)?.token !== token) {
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
    const many = await this.completeOutcomes([{ stepIndex, report }], next, claims);
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
    const many = await this.completeOutcomes(reports, next, claims);
    // As plain data: an Outcome's error details do not cross RPC inside an array.
    const results = many.results.map((r): CompletionResultData => {
      if (r.ok) return r.value;
      const { code, status, message } = r.error;
      return { refused: { code, status, message } };
    });
    return { ...many, results };
  }

  private async completeOutcomes(
    reports: Array<{ stepIndex: number; report: CompletionReport }>,
    next?: NextAsk,
    claims: Claim[] = [],
  ): Promise<{ results: Array<Outcome<{ accepted: boolean }>>; next: Lease[]; untried: Claim[] }> {
    const known = reports.flatMap((r, i) => {
      const step = this.stepAt(r.stepIndex);
      return step ? [{ i, step, ...r, attempt: this.state?.steps[step]?.attempt }] : [];
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
        .filter((e) => matches(this.selectorOf(e.step, t.context), next.labels))
        .slice(0, next.max);
      const room = Math.max(0, next.max - ready.length);
      untried = claims.slice(room);
      return [...ready, ...claims.slice(0, room)].flatMap(
        (c) => this.claimEvent(t.context, c.step, c.dispatchSeq, next.runnerId) ?? [],
      );
    };
    const { replies, granted } = await this.fire(first, Date.now(), handOff, rest);
    known.forEach((k, j) => {
      const reply = replies[j];
      if (reply?.kind !== "completed") {
        results[k.i] = staleFrom(reply ?? { kind: "none" });
        return;
      }
      if (reply.accepted && k.attempt !== undefined) this.countRunnerDrops(k.step, k.attempt, k.report.droppedLogBytes);
      results[k.i] = ok({ accepted: reply.accepted });
    });
    return { results, next: granted, untried };
  }

  /**
   * Output the runner could not ship (its step log says why) counts in the attempt's
   * `droppedBytes` beside what the server itself dropped. Once: only an accepted completion.
   */
  private countRunnerDrops(step: string, attempt: number, bytes: number): void {
    if (bytes <= 0) return;
    addDroppedBytes(this.sql, { step, attempt }, bytes);
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
    return ok(this.store.runLogText());
  }

  // ---- timers ------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    for (const { key, at } of this.timers.due(Date.now())) {
      // A timer moved or cleared by an earlier event of this loop is no longer due.
      if (!this.timers.take(key, at)) continue;
      const fired = firedTimer(key);
      if (fired.kind === "enqueue") await this.enqueue([fired.step]);
      else if (fired.kind === "startChild") await this.outbox.startChild(fired.step);
      else if (fired.kind === "stopChild") await this.outbox.stopChild(fired.childRunId);
      else if (fired.kind === "summary") await this.outbox.writeSummary();
      else if (fired.kind === "webhooks") await this.webhooks.deliver();
      // Each event happens at its timer's time.
      else await this.fire(fired.event, Math.max(Date.now(), at));
    }
    await this.timers.arm();
  }

  // ---- the shell around the machine ----------------------------------------------------------

  /**
   * Applies one event and the events `also` of the same call (a runner's further completions),
   * then the claims `follow` derives from their transitions (a completion's hand-off of the steps
   * it made ready to the same runner), and stores it all in one transaction. Dispatched steps
   * that no claim took go to the dispatcher.
   */
  private async fire(
    event: RunEvent,
    now = Date.now(),
    follow?: (t: Transition, replies: Reply[]) => RunEvent[],
    also: RunEvent[] = [],
  ): Promise<{ reply: Reply; replies: Reply[]; granted: Lease[] }> {
    // The isolate's list, at once; only an isolate that has none yet waits for D1 (before the
    // state is read, since another call may run meanwhile).
    const found = webhookSubscriptions(this.env);
    const hooks = Array.isArray(found) ? found : await found;
    const before = this.state;
    if (!before) {
      const reply: Reply = { kind: "stale", reason: "run not found" };
      return { reply, replies: [event, ...also].map(() => reply), granted: [] };
    }
    const first = transition(this.machine, before, event, now);
    let { state, context } = first;
    const effects = [...first.effects];
    // What the events wrote: only these steps are stored and sent to live sockets.
    const changed = new Set(first.changed);
    const claims: Array<{ event: Extract<RunEvent, { type: "claim" }>; attempt: number }> = [];
    const replies = [first.reply];
    const apply = (e: RunEvent, t: Transition) => {
      if (e.type === "claim" && t.reply.kind === "claimed") claims.push({ event: e, attempt: t.reply.attempt });
      ({ state, context } = t);
      effects.push(...t.effects);
      for (const name of t.changed) changed.add(name);
    };
    if (event.type === "claim" && first.reply.kind === "claimed") claims.push({ event, attempt: first.reply.attempt });
    // Events of the same call (further completions of one runner), each with its own reply.
    for (const e of also) {
      const t = transition(context, state, e, now);
      replies.push(t.reply);
      apply(e, t);
    }
    for (const e of follow?.({ ...first, state, context, effects }, replies) ?? []) {
      apply(e, transition(context, state, e, now));
    }
    const claimed = new Set(claims.map((c) => c.event.step));
    let hookEvents = false;
    const deliveries = this.atomically((): Deliveries => {
      this.store.persist(state, { steps: changed, outputs: before.outputs !== state.outputs });
      const out = this.outbox.record(effects, now, claimed);
      if (hooks.length) hookEvents = this.webhooks.record(hooks, before, state, now, inStepOrder(context, changed));
      // An attempt number given back: what its lease logged is not the next lease's.
      for (const e of effects) if (e.type === "clearLog") clearLog(this.sql, e);
      return out;
    });
    this.state = state;
    this.ctxCache = context;
    const granted = claims.flatMap((c) => this.leaseFor(c.event, c.attempt) ?? []);
    this.live.changed(changed);
    await this.outbox.deliver(deliveries);
    if (hookEvents) await this.webhooks.deliver();
    await this.timers.arm();
    return { reply: first.reply, replies, granted };
  }

  /**
   * One storage transaction. The store and the timers keep what they last wrote in memory: when
   * the transaction throws and storage rolls back, they read it again.
   */
  private atomically<T>(fn: () => T): T {
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (err) {
      this.store.forget();
      this.timers.forget();
      throw err;
    }
  }

  private appendRunLog(message: string): void {
    this.store.appendRunLog(message);
  }

  /** Hands dispatched steps to the dispatcher; on failure a timer tries again. */
  private enqueue(stepNames: string[]): Promise<void> {
    return this.outbox.enqueue(stepNames);
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

function unwrapOr<T>(o: Outcome<T>): T | undefined {
  return o.ok ? o.value : undefined;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
