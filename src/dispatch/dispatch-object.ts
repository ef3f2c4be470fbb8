// DispatchObject: holds steps that are ready to run and hands them to runners that long-poll
// for work or wait on a socket. It owns no step state: each task is turned into a lease by its
// RunObject (`claim`), which fences it, so a stale or duplicate task here can never run a step
// twice. Its parts: the task queue (task-queue.ts), the runner table (runner-table.ts), the
// runners' sockets (runner-socket.ts); the HTTP long poll itself runs in the Worker (long-poll.ts).
import { DurableObject } from "cloudflare:workers";
import migrations from "../../migrations/do/dispatch/migrations.js";
import { openStorage } from "../do-storage";
import type { Env } from "../env";
import { type Lease, SOCKET_PING, SOCKET_PONG } from "../shared/protocol";
import type { Selector } from "../shared/selector";
import { timingMark } from "../timing";
import { announceSilentRunners, runnerReported } from "../webhooks/runner-events";
import type { RunnerReport } from "./fleet";
import { RunnerSockets } from "./runner-socket";
import { RunnerTable } from "./runner-table";
import * as schema from "./schema";
import { type DispatchTask, type LeaseAsk, TaskTable } from "./task-queue";
import { pollsToWake } from "./wake-polls";

export class DispatchObject extends DurableObject<Env> {
  private sql: SqlStorage;
  /** HTTP long polls waiting for work, oldest first, with their runners' labels and free slots. */
  private waiters = new Map<() => void, { labels: Record<string, string>; max: number }>();
  /** Runners connected by socket (runner-socket.ts): new work is pushed to them. */
  private sockets: RunnerSockets;
  private tasks: TaskTable;
  private runnerTable: RunnerTable;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.tasks = new TaskTable(env, this.sql, (selectors) => this.announce(selectors));
    this.runnerTable = new RunnerTable(this.sql);
    // A runner checks its socket with this ping; answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(SOCKET_PING, SOCKET_PONG));
    this.sockets = new RunnerSockets(ctx, env, {
      take: (ask) => this.take(ask),
      isLeftover: (ask) => this.isLeftover(ask),
      takeRows: (labels, max) => this.tasks.takeRows(labels, max),
      putBack: (rows) => this.tasks.putBack(rows),
      claimRows: (rows, runnerId) => this.tasks.claimRows(rows, runnerId),
    });
    // The tables (schema.ts) come from migrations/do/dispatch, applied before any call arrives.
    openStorage(ctx, schema, migrations);
  }

  enqueue(tasks: DispatchTask[]): void {
    for (const runId of new Set(tasks.map((t) => t.runId))) timingMark(this.env, "enqueued", runId);
    this.tasks.enqueue(tasks);
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

  // ---- HTTP long polls (long-poll.ts) ------------------------------------------------------

  /**
   * "pending" when tasks are pending already, "work" when one arrives, "timeout" after `ms`,
   * "leftover" when the request began before its runner was lost (see `runnersLost`). It takes
   * nothing: the caller then calls `take`. A long poll whose client went away is cancelled in
   * the Worker between the two calls, so it never takes a lease that nobody would receive.
   */
  async waitForWork(ms: number, ask: LeaseAsk): Promise<"pending" | "work" | "timeout" | "leftover"> {
    if (this.isLeftover(ask)) return "leftover";
    if (this.tasks.matching(ask.labels, 1).length > 0) return "pending";
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
    return this.tasks.matching(ask.labels, 1).length > 0 ? "work" : "timeout";
  }

  /** Up to `max` leases from the tasks pending now, without waiting. */
  async take(ask: LeaseAsk): Promise<Lease[]> {
    if (this.isLeftover(ask)) return [];
    return this.tasks.claimRows(this.tasks.takeRows(ask.labels, ask.max), ask.runnerId);
  }

  /** Number of tasks waiting for a runner. */
  pending(): number {
    return this.tasks.pending();
  }

  // ---- the fleet (runner-table.ts) ---------------------------------------------------------

  /**
   * A runner let leases expire: requests it began before `at` are left over from a process
   * that is gone (its connection may not have been noticed as closed) and get no work.
   */
  runnersLost(lost: Array<{ runnerId: string; at: number }>): void {
    this.runnerTable.lost(lost);
  }

  /** Whether a request began before its runner was marked lost (see `runnersLost`). */
  isLeftover(ask: LeaseAsk): boolean {
    return this.runnerTable.isLeftover(ask);
  }

  /**
   * Records a runner's own heartbeat, sent with token `tokenId`: "new" when this runner is new
   * to this pool, "taken" (and nothing recorded) when a live runner of another token has its id.
   */
  runnerReport(report: RunnerReport, tokenId: string): "new" | "known" | "taken" {
    const row = this.runnerTable.row(report.runnerId);
    if (row && this.runnerTable.ownedElsewhere(row, tokenId, report.lastSeenAt)) return "taken";
    // Webhooks hear when a runner comes online and when it goes silent (src/webhooks/runner-events.ts).
    this.ctx.waitUntil(runnerReported(this.env, this.ctx.storage, report, row?.last_seen_at));
    this.runnerTable.save(report, tokenId);
    return row ? "known" : "new";
  }

  /** Whether `runnerId` is the id of a live runner that reports with another token than `tokenId`. */
  isOthersRunner(runnerId: string, tokenId: string, now: number): boolean {
    const row = this.runnerTable.row(runnerId);
    return row !== undefined && this.runnerTable.ownedElsewhere(row, tokenId, now);
  }

  /** Kept by the default pool's dispatcher: every pool a runner ever reported to. */
  addPool(name: string): void {
    this.runnerTable.addPool(name);
  }

  pools(): string[] {
    return this.runnerTable.pools();
  }

  /**
   * For each selector, null when a live runner of this pool matches it, else why the step
   * waits. Live: reported within WARNING_AFTER_MS.
   */
  whyWaiting(selectors: Selector[], now: number): Array<string | null> {
    return this.runnerTable.whyWaiting(selectors, now);
  }

  /** The fleet, newest report first; runners silent for a day are forgotten. */
  runners(now: number): RunnerReport[] {
    return this.runnerTable.runners(now);
  }
}
