// The run as its object holds it: the stored run in memory, the machine's context, the parts
// that store and deliver (run store, timers, outbox, webhook outbox, log store, live sockets), and
// `fire`, the one path by which an event changes the run: the pure transition, one storage
// transaction for all it wrote, then the effects. The RunObject's RPC methods are thin calls into
// this and the modules beside it (leases, completions, manual, lifecycle, logs).
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../../migrations/do/run/migrations.js";
import { migrateOnStart, type ObjectDb, objectDb } from "../../do-storage";
import { type Env, leaseTtlMs } from "../../env";
import { fail, type Outcome, ok } from "../../errors";
import { LiveRun } from "../../live/live-run";
import type { Lease } from "../../shared/protocol";
import { type Selector, selectorOf } from "../../shared/selector";
import { timingMark } from "../../timing";
import { webhookSubscriptions } from "../../webhooks/registry";
import {
  createContext,
  type Effect,
  initialState,
  inStepOrder,
  type MachineContext,
  type Reply,
  type RunEvent,
  type RunState,
  type Transition,
  transition,
} from "../engine";
import { clearLog } from "../log-store";
import { type ClaimEvent, leaseFor } from "./lease-grant";
import { type Deliveries, Outbox } from "./outbox";
import type { RunInit, RunSnapshot } from "./rpc";
import { RunStore, type StoredInit } from "./run-store";
import * as schema from "./schema";
import { firedTimer } from "./timer-keys";
import { TimerTable } from "./timers";
import { WebhookOutbox } from "./webhook-outbox";

/** A claim an event of the call granted: its event and the attempt it leased. */
export interface GrantedClaim {
  event: ClaimEvent;
  attempt: number;
}

/** The rest of a call's events, for `fire`. */
export interface Batch {
  also?: Array<RunEvent | ((granted: readonly GrantedClaim[]) => RunEvent | undefined)>;
  follow?: (t: Transition, granted: readonly GrantedClaim[]) => RunEvent[];
  last?: (context: MachineContext, replies: readonly Reply[], granted: readonly GrantedClaim[]) => RunEvent[];
  /** The call's own writes, given every event's reply, in the transaction that stores the run. */
  write?: (replies: readonly Reply[]) => void;
}

/** What `fire` answers: the first event's reply, every event's reply, the leases granted. */
export interface Fired {
  reply: Reply;
  replies: Reply[];
  granted: Lease[];
}

export class RunCore {
  /** The raw SQL API, for the log store (src/run/log-store.ts); tables come from ./schema. */
  readonly sql: SqlStorage;
  readonly store: RunStore;
  readonly timers: TimerTable;
  readonly outbox: Outbox;
  readonly webhooks: WebhookOutbox;
  /** Live sockets of this run (src/live): told of every state change and stored log batch. */
  readonly live: LiveRun;
  private readonly db: ObjectDb<typeof schema>;
  private initRecord?: StoredInit;
  private runState?: RunState;
  private ctxCache?: MachineContext;

  constructor(
    readonly ctx: DurableObjectState,
    readonly env: Env,
  ) {
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
    timingMark(env, "objectNew", ctx.id.name ?? "");
    // Migrations (migrations/do/run) and the load run before any call or alarm arrives.
    migrateOnStart(ctx, this.db, migrations, () => {
      this.load();
      timingMark(env, "objectUp", ctx.id.name ?? "");
    });
  }

  /** What the run was created with; undefined while this object holds no run. */
  get init(): StoredInit | undefined {
    return this.initRecord;
  }

  /** The run's current state; undefined while this object holds no run. */
  get state(): RunState | undefined {
    return this.runState;
  }

  private load(): void {
    const stored = this.store.load();
    this.initRecord = stored?.init;
    this.runState = stored?.state;
  }

  get machine(): MachineContext {
    if (!this.init) throw new Error("run not initialised");
    this.ctxCache ??= createContext(this.init.dag, this.init.leaseTtlMs, {
      params: this.init.params,
      state: this.state,
    });
    return this.ctxCache;
  }

  /** Creates the run without starting it, unless it exists. */
  prepare(input: RunInit, status: "not_started" | "queued"): void {
    if (this.init) return;
    const init: StoredInit = { ...input, leaseTtlMs: leaseTtlMs(this.env), viaAdmission: status === "queued" };
    const state = initialState(input.runId, input.dag, Date.now(), status);
    this.atomically(() => {
      this.store.saveInit(init);
      this.store.persist(state);
    });
    this.initRecord = init;
    this.runState = state;
  }

  /** Deletes everything this run stored; the same id may be used again while this instance lives. */
  async wipe(): Promise<void> {
    await this.timers.reset();
    await this.ctx.storage.deleteAll();
    this.store.forget();
    this.initRecord = undefined;
    this.runState = undefined;
    this.ctxCache = undefined;
    await migrate(this.db, migrations);
  }

  snapshot(): Outcome<RunSnapshot> {
    if (!this.init || !this.state) return fail("not_found", 404, "run not found");
    const { dag, paramsText, parent } = this.init;
    return ok({ dag, state: this.state, paramsText, ...(parent && { parent }) });
  }

  /** Fires the timers that are due: the outbox's retries, and the engine's as `timer` events. */
  async alarm(): Promise<void> {
    for (const { key, at } of this.timers.due(Date.now())) {
      // A timer moved or cleared by an earlier event of this loop is no longer due.
      if (!this.timers.take(key, at)) continue;
      const fired = firedTimer(key);
      if (fired.kind === "enqueue") await this.outbox.enqueue([fired.step]);
      else if (fired.kind === "startChild") await this.outbox.startChild(fired.step);
      else if (fired.kind === "stopChild") await this.outbox.stopChild(fired.childRunId);
      else if (fired.kind === "summary") await this.outbox.writeSummary();
      else if (fired.kind === "webhooks") await this.webhooks.deliver();
      // Each event happens at its timer's time.
      else await this.fire(fired.event, Math.max(Date.now(), at));
    }
    await this.timers.arm();
  }

  /**
   * Applies one event and the further events of the same call (`batch.also`: a runner's further
   * completions), each followed at once by the claims `batch.follow` derives from it (a
   * completion's hand-off of the steps it made ready to the same runner), then the claims of
   * `batch.last`, and stores it all in one transaction. An event of `also` given as a function is
   * built when its turn comes, from the claims granted so far in the call (an offered completion
   * takes its claim's token); undefined refuses it. A claim completed later in the same call is
   * not handed out. Dispatched steps that no claim took go to the dispatcher.
   */
  async fire(event: RunEvent, now = Date.now(), batch: Batch = {}): Promise<Fired> {
    const also = batch.also ?? [];
    // The isolate's list, at once; only an isolate that has none yet waits for D1 (before the
    // state is read, since another call may run meanwhile).
    const found = webhookSubscriptions(this.env);
    const hooks = Array.isArray(found) ? found : await found;
    const before = this.state;
    if (!before) {
      const reply: Reply = { kind: "stale", reason: "run not found" };
      return { reply, replies: [event, ...also].map(() => reply), granted: [] };
    }
    let state = before;
    let context = this.machine;
    const effects: Effect[] = [];
    // What the events wrote: only these steps are stored and sent to live sockets.
    const changed = new Set<string>();
    const claims: GrantedClaim[] = [];
    // Every step a claim of the call took, handed out or completed: its dispatch stays here.
    const claimed = new Set<string>();
    const apply = (e: RunEvent): Transition => {
      const t = transition(context, state, e, now);
      if (e.type === "claim" && t.reply.kind === "claimed") {
        claims.push({ event: e, attempt: t.reply.attempt });
        claimed.add(e.step);
      }
      // A lease this call granted and then completed is not the runner's to be handed.
      if (e.type === "complete" && t.reply.kind === "completed" && t.reply.accepted) {
        const at = claims.findIndex((c) => c.event.step === e.step && c.event.token === e.token);
        if (at >= 0) claims.splice(at, 1);
      }
      ({ state, context } = t);
      effects.push(...t.effects);
      for (const name of t.changed) changed.add(name);
      return t;
    };
    const replies: Reply[] = [];
    for (const item of [event, ...also]) {
      const e = typeof item === "function" ? item(claims) : item;
      if (!e) {
        replies.push({ kind: "stale", reason: "no lease of this call grants it" });
        continue;
      }
      const t = apply(e);
      replies.push(t.reply);
      for (const c of batch.follow?.(t, claims) ?? []) apply(c);
    }
    for (const c of batch.last?.(context, replies, claims) ?? []) apply(c);
    let hookEvents = false;
    const deliveries = this.atomically((): Deliveries => {
      this.store.persist(state, { steps: changed, outputs: before.outputs !== state.outputs });
      const out = this.outbox.record(effects, now, claimed);
      if (hooks.length) hookEvents = this.webhooks.record(hooks, before, state, now, inStepOrder(context, changed));
      // An attempt number given back: what its lease logged is not the next lease's.
      for (const e of effects) if (e.type === "clearLog") clearLog(this.sql, e);
      batch.write?.(replies);
      return out;
    });
    this.runState = state;
    this.ctxCache = context;
    const granted = claims.flatMap((c) => leaseFor(this, c.event, c.attempt) ?? []);
    this.live.changed(changed);
    await this.outbox.deliver(deliveries);
    if (hookEvents) await this.webhooks.deliver();
    await this.timers.arm();
    return { reply: replies[0] as Reply, replies, granted };
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

  /**
   * The step's effective workerSelector, its pool included. Every step of the run has one, the
   * handlers and the DAG-preconditions check too: they run in the DAG's pool, like its steps.
   */
  selectorOf(stepName: string, context = this.machine): Selector {
    return selectorOf(this.init?.dag ?? {}, context.stepsByName.get(stepName) ?? {});
  }

  /** The name of the step at `index` of the run's steps (a lease id's index), if any. */
  stepAt(index: number): string | undefined {
    return this.init ? this.machine.allSteps[index]?.name : undefined;
  }
}

function unwrapOr<T>(o: Outcome<T>): T | undefined {
  return o.ok ? o.value : undefined;
}
