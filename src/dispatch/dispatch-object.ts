// DispatchObject: holds steps that are ready to run and hands them to runners that long-poll
// for work. It owns no step state: each task is turned into a lease by its RunObject (`claim`),
// which fences it, so a stale or duplicate task here can never run a step twice.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { Lease } from "../protocol";

export interface DispatchTask {
  runId: string;
  step: string;
  dispatchSeq: number;
}

export interface LeaseAsk {
  runnerId: string;
  labels: Record<string, string>;
  max: number;
  waitMs: number;
}

/** The runner pool's dispatcher. One pool for now; pools by label come with the fleet. */
export function dispatcherFor(env: Env): DurableObjectStub<DispatchObject> {
  return env.DISPATCH.get(env.DISPATCH.idFromName("default"));
}

export class DispatchObject extends DurableObject<Env> {
  private sql: SqlStorage;
  /** Long polls waiting for work; woken on every enqueue. */
  private waiters = new Set<() => void>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL, step TEXT NOT NULL, dispatch_seq INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        UNIQUE (run_id, step, dispatch_seq));
    `);
  }

  enqueue(tasks: DispatchTask[]): void {
    const now = Date.now();
    for (const t of tasks) {
      this.sql.exec(
        "INSERT OR IGNORE INTO tasks (run_id, step, dispatch_seq, enqueued_at) VALUES (?, ?, ?, ?)",
        t.runId,
        t.step,
        t.dispatchSeq,
        now,
      );
    }
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Up to `max` leases, waiting up to `waitMs` for the first one. */
  async lease(ask: LeaseAsk): Promise<Lease[]> {
    const deadline = Date.now() + ask.waitMs;
    for (;;) {
      const leases = await this.take(ask);
      if (leases.length > 0) return leases;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      // Tasks still pending here are ones whose run could not be reached: pause before retrying.
      await this.waitForWork(this.pending() === 0 ? left : Math.min(left, 50));
    }
  }

  /** Number of tasks waiting for a runner. */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks").one().n;
  }

  private async take(ask: LeaseAsk): Promise<Lease[]> {
    // Taking the rows is synchronous, so two long polls never take the same task.
    const rows = this.sql
      .exec<{ id: number; run_id: string; step: string; dispatch_seq: number }>(
        "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks ORDER BY id LIMIT ?) RETURNING id, run_id, step, dispatch_seq",
        ask.max,
      )
      .toArray()
      .sort((a, b) => a.id - b.id);
    const claims = await Promise.allSettled(
      rows.map((r) =>
        this.env.RUNS.get(this.env.RUNS.idFromName(r.run_id)).claim(r.step, r.dispatch_seq, ask.runnerId),
      ),
    );
    const leases: Lease[] = [];
    claims.forEach((c, i) => {
      const row = rows[i];
      if (!row) return;
      if (c.status === "fulfilled") {
        if (c.value) leases.push(c.value);
      } else {
        // The run could not be reached: keep its task for the next runner.
        console.error(`dispatch: claim for run ${row.run_id} step ${row.step} failed`, c.reason);
        this.enqueue([{ runId: row.run_id, step: row.step, dispatchSeq: row.dispatch_seq }]);
      }
    });
    return leases;
  }

  private waitForWork(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }
}
