// DispatchObject: holds steps that are ready to run and hands them to runners that long-poll
// for work. It owns no step state: each task is turned into a lease by its RunObject (`claim`),
// which fences it, so a stale or duplicate task here can never run a step twice.
import { DurableObject } from "cloudflare:workers";
import migrations from "../../migrations/do/dispatch/migrations.js";
import { openStorage } from "../do-storage";
import type { Env } from "../env";
import { parseLeaseId } from "../shared/lease-id";
import { type Lease, SOCKET_PING, SOCKET_PONG } from "../shared/protocol";
import { DEFAULT_POOL, formatSelector, matches, poolOf, type Selector } from "../shared/selector";
import { dispatcherFor, runStub } from "../stubs";
import { announceSilentRunners, runnerReported } from "../webhooks/runner-events";
import { FORGET_AFTER_MS, type RunnerReport, WARNING_AFTER_MS } from "./fleet";
import { RunnerSockets } from "./runner-socket";
import * as schema from "./schema";
import type { TaskRow } from "./take-along";
import { pollsToWake } from "./wake-polls";

export interface DispatchTask {
  runId: string;
  step: string;
  dispatchSeq: number;
  /** The step's effective workerSelector (its pool included): only matching runners take it. */
  selector: Selector;
}

/** Pending tasks a take looks at, oldest first; beyond them a matching task waits its turn. */
const SCAN_LIMIT = 1000;

export interface LeaseAsk {
  runnerId: string;
  labels: Record<string, string>;
  max: number;
  /** When the runner's request began (epoch ms); see `runnersLost`. */
  askedAt: number;
}

/**
 * Up to `max` leases, waiting up to `waitMs` for the first. Runs in the Worker, so that a poll
 * whose runner disconnected stops here (the Worker's request is cancelled) instead of in the
 * Durable Object, where it would go on and take a lease for nobody.
 */
export async function longPollLeases(
  env: Env,
  ask: LeaseAsk,
  waitMs: number,
  recheck: () => Promise<void> = async () => {},
): Promise<Lease[]> {
  const dispatcher = dispatcherFor(env, poolOf(ask.labels));
  const deadline = ask.askedAt + waitMs;
  for (;;) {
    const leases = await dispatcher.take(ask);
    if (leases.length > 0) {
      // The caller's token may have been revoked while it waited: then the leases go back.
      await recheck().catch(async (err: unknown) => {
        await giveBack(env, leases, "runner token revoked");
        throw err;
      });
      return leases;
    }
    const left = deadline - Date.now();
    if (left <= 0) return [];
    // An idle poll costs this call and the take before it, however many tasks other runners get.
    const woke = await dispatcher.waitForWork(left, ask);
    // Timed out; or the runner was lost since it asked, and it gets its answer now and asks again at once.
    if (woke === "timeout" || woke === "leftover") return [];
    // Tasks already pending after an empty take: another poll raced us to them, or their
    // runs could not be reached; pause briefly instead of spinning.
    if (woke === "pending") await new Promise((r) => setTimeout(r, 50));
  }
}

/** Hands leases back to their runs, which dispatch the steps again without counting an attempt. */
async function giveBack(env: Env, leases: Lease[], reason: string): Promise<void> {
  await Promise.allSettled(
    leases.map((l) => runStub(env, l.runId).release(parseLeaseId(l.leaseId)?.stepIndex ?? -1, l.token, reason)),
  );
}

export class DispatchObject extends DurableObject<Env> {
  private sql: SqlStorage;
  /** HTTP long polls waiting for work, oldest first, with their runners' labels and free slots. */
  private waiters = new Map<() => void, { labels: Record<string, string>; max: number }>();
  /** Runners connected by socket (runner-socket.ts): new work is pushed to them. */
  private sockets: RunnerSockets;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // A runner checks its socket with this ping; answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(SOCKET_PING, SOCKET_PONG));
    this.sockets = new RunnerSockets(ctx, env, {
      take: (ask) => this.take(ask),
      isLeftover: (ask) => this.isLeftover(ask),
      takeRows: (labels, max) => this.takeRows(labels, max),
      putBack: (rows) => this.putBack(rows),
      claimRows: (rows, runnerId) => this.claimRows(rows, runnerId),
    });
    // The tables (schema.ts) come from migrations/do/dispatch, applied before any call arrives.
    openStorage(ctx, schema, migrations);
  }

  enqueue(tasks: DispatchTask[]): void {
    const now = Date.now();
    for (const t of tasks) {
      this.sql.exec(
        "INSERT OR IGNORE INTO tasks (run_id, step, dispatch_seq, enqueued_at, selector) VALUES (?, ?, ?, ?, ?)",
        t.runId,
        t.step,
        t.dispatchSeq,
        now,
        JSON.stringify(t.selector),
      );
    }
    this.announce(tasks.map((t) => t.selector));
  }

  /** Tells runners of tasks now pending. */
  private announce(selectors: Selector[]): void {
    if (selectors.length === 0) return;
    this.wakeFor(selectors);
    this.ctx.waitUntil(this.sockets.pump());
  }

  /** Wakes the waiting polls that may take the new tasks (wake-polls.ts), not every one. */
  private wakeFor(selectors: Selector[]): void {
    const polls = [...this.waiters].map(([wake, w]) => ({ ...w, wake }));
    for (const poll of pollsToWake(selectors, polls)) poll.wake();
  }

  // ---- runner sockets (runner-socket.ts) -------------------------------------------------

  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(this.sockets.connect(request));
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.sockets.message(ws, message);
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    // Completes the closing handshake; the socket's waiting request goes with it.
    try {
      ws.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  /** The only alarm of a dispatcher: runners gone silent, for webhooks. */
  override async alarm(): Promise<void> {
    await announceSilentRunners(this.env, this.ctx.storage, this.sql, Date.now());
  }

  /** A runner token was revoked: its runners' sockets are closed (they stop, as on a 401). */
  closeToken(tokenId: string): number {
    return this.sockets.closeToken(tokenId);
  }

  /**
   * "pending" when tasks are pending already, "work" when one arrives, "timeout" after `ms`,
   * "leftover" when the request began before its runner was lost (see `runnersLost`). It takes
   * nothing: the caller then calls `take`. A long poll whose client went away is cancelled in
   * the Worker between the two calls, so it never takes a lease that nobody would receive.
   */
  async waitForWork(ms: number, ask: LeaseAsk): Promise<"pending" | "work" | "timeout" | "leftover"> {
    if (this.isLeftover(ask)) return "leftover";
    if (this.matching(ask.labels, 1).length > 0) return "pending";
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.set(wake, { labels: ask.labels, max: ask.max });
    });
    if (this.isLeftover(ask)) return "leftover";
    return this.matching(ask.labels, 1).length > 0 ? "work" : "timeout";
  }

  /** Up to `max` pending tasks a runner with `labels` may take, oldest first. */
  private matching(labels: Record<string, string>, max: number): TaskRow[] {
    const out: TaskRow[] = [];
    const rows = this.sql.exec<TaskRow>(
      "SELECT id, run_id, step, dispatch_seq, enqueued_at, selector FROM tasks ORDER BY id LIMIT ?",
      SCAN_LIMIT,
    );
    for (const r of rows) {
      if (out.length >= max) break;
      if (matches(JSON.parse(r.selector) as Selector, labels)) out.push(r);
    }
    return out;
  }

  /** Number of tasks waiting for a runner. */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks").one().n;
  }

  /**
   * A runner let leases expire: requests it began before `at` are left over from a process
   * that is gone (its connection may not have been noticed as closed) and get no work.
   */
  runnersLost(lost: Array<{ runnerId: string; at: number }>): void {
    for (const l of lost) {
      this.sql.exec(
        `INSERT INTO lost_runners (runner_id, since) VALUES (?, ?)
         ON CONFLICT (runner_id) DO UPDATE SET since = MAX(since, excluded.since)`,
        l.runnerId,
        l.at,
      );
    }
  }

  /**
   * Records a runner's own heartbeat, sent with token `tokenId`: "new" when this runner is new
   * to this pool, "taken" (and nothing recorded) when a live runner of another token has its id.
   */
  runnerReport(report: RunnerReport, tokenId: string): "new" | "known" | "taken" {
    const row = this.sql
      .exec<{ token_id: string | null; last_seen_at: number }>(
        "SELECT token_id, last_seen_at FROM runners WHERE runner_id = ?",
        report.runnerId,
      )
      .toArray()[0];
    if (row && this.ownedElsewhere(row, tokenId, report.lastSeenAt)) return "taken";
    // Webhooks hear when a runner comes online and when it goes silent (src/webhooks/runner-events.ts).
    this.ctx.waitUntil(runnerReported(this.env, this.ctx.storage, report, row?.last_seen_at));
    this.sql.exec(
      "INSERT OR REPLACE INTO runners (runner_id, report, last_seen_at, token_id) VALUES (?, ?, ?, ?)",
      report.runnerId,
      JSON.stringify(report),
      report.lastSeenAt,
      tokenId,
    );
    return row ? "known" : "new";
  }

  /** Whether `runnerId` is the id of a live runner that reports with another token than `tokenId`. */
  isOthersRunner(runnerId: string, tokenId: string, now: number): boolean {
    const row = this.sql
      .exec<{ token_id: string | null; last_seen_at: number }>(
        "SELECT token_id, last_seen_at FROM runners WHERE runner_id = ?",
        runnerId,
      )
      .toArray()[0];
    return row !== undefined && this.ownedElsewhere(row, tokenId, now);
  }

  /** A silent runner's id is free again, so a runner restarted with a new token keeps its id. */
  private ownedElsewhere(row: { token_id: string | null; last_seen_at: number }, tokenId: string, now: number) {
    return row.token_id !== null && row.token_id !== tokenId && row.last_seen_at >= now - WARNING_AFTER_MS;
  }

  /** Kept by the default pool's dispatcher: every pool a runner ever reported to. */
  addPool(name: string): void {
    this.sql.exec("INSERT OR IGNORE INTO pools (name) VALUES (?)", name);
  }

  pools(): string[] {
    const names = this.sql
      .exec<{ name: string }>("SELECT name FROM pools")
      .toArray()
      .map((r) => r.name);
    return [...new Set([DEFAULT_POOL, ...names])].sort();
  }

  /**
   * For each selector, null when a live runner of this pool matches it, else why the step
   * waits. Live: reported within WARNING_AFTER_MS.
   */
  whyWaiting(selectors: Selector[], now: number): Array<string | null> {
    const live = this.sql
      .exec<{ report: string }>("SELECT report FROM runners WHERE last_seen_at >= ?", now - WARNING_AFTER_MS)
      .toArray()
      .map((r) => (JSON.parse(r.report) as RunnerReport).labels);
    return selectors.map((sel) =>
      live.some((labels) => matches(sel, labels)) ? null : `waiting: no live runner matches ${formatSelector(sel)}`,
    );
  }

  /** The fleet, newest report first; runners silent for a day are forgotten. */
  runners(now: number): RunnerReport[] {
    this.sql.exec("DELETE FROM runners WHERE last_seen_at < ?", now - FORGET_AFTER_MS);
    return this.sql
      .exec<{ report: string }>("SELECT report FROM runners ORDER BY runner_id")
      .toArray()
      .map((r) => JSON.parse(r.report) as RunnerReport);
  }

  /** Whether a request began before its runner was marked lost (see `runnersLost`). */
  isLeftover(ask: LeaseAsk): boolean {
    const lostSince = this.sql
      .exec<{ since: number }>("SELECT since FROM lost_runners WHERE runner_id = ?", ask.runnerId)
      .toArray()[0]?.since;
    return lostSince !== undefined && ask.askedAt < lostSince;
  }

  /** Up to `max` leases from the tasks pending now, without waiting. */
  async take(ask: LeaseAsk): Promise<Lease[]> {
    if (this.isLeftover(ask)) return [];
    return this.claimRows(this.takeRows(ask.labels, ask.max), ask.runnerId);
  }

  /**
   * Takes up to `max` pending tasks a runner with `labels` may run, oldest first, off the
   * table. Synchronous, so two requests never take the same task; the caller claims them
   * (`claimRows`) or puts them back (`putBack`).
   */
  private takeRows(labels: Record<string, string>, max: number): TaskRow[] {
    const rows = this.matching(labels, max);
    for (const r of rows) this.sql.exec("DELETE FROM tasks WHERE id = ?", r.id);
    return rows;
  }

  /** Tasks taken and not claimed go back in their old places in the queue. */
  private putBack(rows: TaskRow[]): void {
    for (const r of rows) {
      this.sql.exec(
        "INSERT OR IGNORE INTO tasks (id, run_id, step, dispatch_seq, enqueued_at, selector) VALUES (?, ?, ?, ?, ?, ?)",
        r.id,
        r.run_id,
        r.step,
        r.dispatch_seq,
        r.enqueued_at,
        r.selector,
      );
    }
    this.announce(rows.map((r) => JSON.parse(r.selector) as Selector));
  }

  /** Turns taken tasks into leases for `runnerId`: one claim per run, one call and one transaction each. */
  private async claimRows(rows: TaskRow[], runnerId: string): Promise<Lease[]> {
    const byRun = new Map<string, TaskRow[]>();
    for (const r of rows) byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), r]);
    const claims = await Promise.allSettled(
      [...byRun].map(([runId, runRows]) =>
        runStub(this.env, runId).claimMany(
          runRows.map((r) => ({ step: r.step, dispatchSeq: r.dispatch_seq })),
          runnerId,
        ),
      ),
    );
    const leases: Lease[] = [];
    const runs = [...byRun.values()];
    claims.forEach((c, i) => {
      const runRows = runs[i] ?? [];
      if (c.status === "fulfilled") {
        leases.push(...c.value);
        return;
      }
      // The run could not be reached: keep its tasks for the next runner.
      console.error(`dispatch: claim for run ${runRows[0]?.run_id} failed`, c.reason);
      this.putBack(runRows);
    });
    return leases;
  }
}
