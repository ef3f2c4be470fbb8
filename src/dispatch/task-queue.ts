// The pool's queue of tasks: steps of runs that are ready for a runner, oldest first, each with
// its workerSelector. A take removes tasks synchronously, so two requests never take the same
// one, and turns them into leases by asking their runs (`claimMany`, one call per run), which
// fence them: a stale or duplicate task here can never run a step twice.
import type { Env } from "../env";
import type { Lease } from "../shared/protocol";
import { matches, type Selector } from "../shared/selector";
import { runStub } from "../stubs";
import type { TaskQueue, TaskRow } from "./take-along";

export interface DispatchTask {
  runId: string;
  step: string;
  dispatchSeq: number;
  /** The step's effective workerSelector (its pool included): only matching runners take it. */
  selector: Selector;
}

export interface LeaseAsk {
  runnerId: string;
  labels: Record<string, string>;
  max: number;
  /** When the runner's request began (epoch ms); see `runnersLost`. */
  askedAt: number;
}

/** Pending tasks a take looks at, oldest first; beyond them a matching task waits its turn. */
const SCAN_LIMIT = 1000;

export class TaskTable implements TaskQueue {
  /**
   * The table was found empty and nothing was added since: a take costs no statement. Every
   * completion of a chain step asks for its runner's next lease (take-along.ts) while the queue
   * is empty, its successor being leased by its run. Set only when a query found no row, and
   * cleared before any insert, so it can only err towards querying.
   */
  private empty = false;

  constructor(
    private readonly env: Env,
    private readonly sql: SqlStorage,
    /** Tells runners of tasks now pending (new, or put back). */
    private readonly announce: (selectors: Selector[]) => void,
  ) {}

  enqueue(tasks: DispatchTask[]): void {
    if (tasks.length) this.empty = false;
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

  /** Up to `max` pending tasks a runner with `labels` may take, oldest first. */
  matching(labels: Record<string, string>, max: number): TaskRow[] {
    const out: TaskRow[] = [];
    if (this.empty) return out;
    const rows = this.sql.exec<TaskRow>(
      "SELECT id, run_id, step, dispatch_seq, enqueued_at, selector FROM tasks ORDER BY id LIMIT ?",
      SCAN_LIMIT,
    );
    let none = true;
    for (const r of rows) {
      none = false;
      if (out.length >= max) break;
      if (matches(JSON.parse(r.selector) as Selector, labels)) out.push(r);
    }
    this.empty = none;
    return out;
  }

  /** Number of tasks waiting for a runner. */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks").one().n;
  }

  /**
   * Takes up to `max` pending tasks a runner with `labels` may run, oldest first, off the
   * table. Synchronous, so two requests never take the same task; the caller claims them
   * (`claimRows`) or puts them back (`putBack`).
   */
  takeRows(labels: Record<string, string>, max: number): TaskRow[] {
    const rows = this.matching(labels, max);
    for (const r of rows) this.sql.exec("DELETE FROM tasks WHERE id = ?", r.id);
    return rows;
  }

  /** Tasks taken and not claimed go back in their old places in the queue. */
  putBack(rows: TaskRow[]): void {
    if (rows.length) this.empty = false;
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
  async claimRows(rows: TaskRow[], runnerId: string): Promise<Lease[]> {
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
