// QueueObject: admission. One Durable Object decides which queued runs may start, so that
// `maxActiveRuns` (per DAG) and named queues' `maxConcurrency` hold without races: every
// decision is made synchronously over its own SQLite, then the runs admitted are started. A run
// frees its slot when its RunObject reports it finished (`finished`).
import { DurableObject } from "cloudflare:workers";
import migrations from "../../migrations/do/queue/migrations.js";
import { openStorage } from "../do-storage";
import type { Env } from "../env";
import { retainAfterFinish } from "../run/retention";
import { runStub } from "../stubs";
import * as schema from "./schema";

/** A named queue's concurrency when nobody configured it (Dagu's default for a queue). */
export const DEFAULT_QUEUE_CONCURRENCY = 1;
/** Delay before retrying runs whose start could not be delivered. */
const START_RETRY_MS = 1_000;

export interface AdmitRequest {
  runId: string;
  dagName: string;
  /** A named queue, or null: only the DAG's own limit applies. */
  queue: string | null;
  /** The DAG's limit, or null for none. */
  maxActiveRuns: number | null;
}

export interface QueueConfig {
  name: string;
  maxConcurrency: number;
}

interface WaitingRow extends Record<string, SqlStorageValue> {
  seq: number;
  run_id: string;
  dag_name: string;
  queue: string | null;
  max_active_runs: number | null;
}

export class QueueObject extends DurableObject<Env> {
  private sql: SqlStorage;
  /**
   * Runs whose admit call is in flight. Concurrent submits each pump, and a run admitted but not
   * yet started must not be started again by them: one admit call per run. In memory only: after
   * a restart nothing is in flight, and every unstarted run is tried again.
   */
  private starting = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // The tables (schema.ts) come from migrations/do/queue, applied before any call arrives.
    openStorage(ctx, schema, migrations);
  }

  /** Queues a run and admits what can start; says whether this run started at once. */
  async submit(req: AdmitRequest): Promise<{ admitted: boolean }> {
    this.sql.exec(
      "INSERT OR IGNORE INTO waiting (run_id, dag_name, queue, max_active_runs) VALUES (?, ?, ?, ?)",
      req.runId,
      req.dagName,
      req.queue,
      req.maxActiveRuns,
    );
    const admitted = this.pump();
    await this.startAll(admitted);
    return { admitted: admitted.includes(req.runId) };
  }

  /**
   * A run reached a final status: its slot (or its place in line) is freed, then the DAG's
   * `histRetentionDays` (as the run's definition had it) is applied.
   */
  async finished(runId: string, dagName: string, retentionDays?: number): Promise<void> {
    this.sql.exec("DELETE FROM active WHERE run_id = ?", runId);
    this.sql.exec("DELETE FROM waiting WHERE run_id = ?", runId);
    await this.startAll(this.pump());
    if (retentionDays === undefined) return;
    await retainAfterFinish(this.env, dagName, retentionDays, runId);
  }

  /** Takes a run out of line; false when it is not waiting (started, finished or unknown). */
  dequeue(runId: string): boolean {
    return this.sql.exec("DELETE FROM waiting WHERE run_id = ?", runId).rowsWritten > 0;
  }

  /** Takes these runs out of line, those that are waiting; returns those that were. */
  purgeRuns(runIds: string[]): string[] {
    return runIds.filter((id) => this.dequeue(id));
  }

  /** Takes every waiting run of a queue (a named queue, or a DAG's own) out of line. */
  purge(queue: string): string[] {
    const rows = this.sql
      .exec<{ run_id: string }>(
        "SELECT run_id FROM waiting WHERE queue = ? OR (queue IS NULL AND dag_name = ?) ORDER BY seq",
        queue,
        queue,
      )
      .toArray();
    this.sql.exec("DELETE FROM waiting WHERE queue = ? OR (queue IS NULL AND dag_name = ?)", queue, queue);
    return rows.map((r) => r.run_id);
  }

  async setQueue(cfg: QueueConfig): Promise<QueueConfig> {
    this.sql.exec(
      "INSERT INTO queues (name, max_concurrency) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET max_concurrency = excluded.max_concurrency",
      cfg.name,
      cfg.maxConcurrency,
    );
    await this.startAll(this.pump());
    return cfg;
  }

  /** Forgets a queue's configuration (it falls back to the default); false when there was none. */
  async deleteQueue(name: string): Promise<boolean> {
    const gone = this.sql.exec("DELETE FROM queues WHERE name = ?", name).rowsWritten > 0;
    await this.startAll(this.pump());
    return gone;
  }

  queueConfigs(): QueueConfig[] {
    return this.sql
      .exec<{ name: string; max_concurrency: number }>("SELECT name, max_concurrency FROM queues ORDER BY name")
      .toArray()
      .map((r) => ({ name: r.name, maxConcurrency: r.max_concurrency }));
  }

  /** Why each of these runs is still waiting (absent: it is not waiting). */
  why(runIds: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const id of runIds) {
      const w = this.sql.exec<WaitingRow>("SELECT * FROM waiting WHERE run_id = ?", id).toArray()[0];
      if (!w) continue;
      const ahead = this.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM waiting WHERE seq < ? AND (dag_name = ? OR (queue IS NOT NULL AND queue = ?))",
          w.seq,
          w.dag_name,
          w.queue,
        )
        .one().n;
      const blocked = this.blockedBy(w) ?? "waiting for its turn";
      out[id] = ahead > 0 ? `${blocked}; ${ahead} queued ahead of it` : blocked;
    }
    return out;
  }

  override async alarm(): Promise<void> {
    await this.startAll(this.pump());
  }

  /** What stops a waiting run from starting now, or null when nothing does. */
  private blockedBy(w: WaitingRow): string | null {
    if (w.max_active_runs !== null) {
      const n = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM active WHERE dag_name = ?", w.dag_name).one().n;
      if (n >= w.max_active_runs) {
        return `maxActiveRuns ${w.max_active_runs} of DAG ${w.dag_name} reached (${n} active)`;
      }
    }
    if (w.queue !== null) {
      const max = this.concurrencyOf(w.queue);
      const n = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM active WHERE queue = ?", w.queue).one().n;
      if (n >= max) return `queue ${w.queue} at its maxConcurrency ${max} (${n} active)`;
    }
    return null;
  }

  private concurrencyOf(queue: string): number {
    return (
      this.sql
        .exec<{ max_concurrency: number }>("SELECT max_concurrency FROM queues WHERE name = ?", queue)
        .toArray()[0]?.max_concurrency ?? DEFAULT_QUEUE_CONCURRENCY
    );
  }

  /**
   * Moves every waiting run that fits into `active`, oldest first; a run that does not fit
   * does not stop later runs of other DAGs and queues. Synchronous: no other call interleaves.
   */
  private pump(): string[] {
    const admitted: string[] = [];
    this.ctx.storage.transactionSync(() => {
      for (const w of this.sql.exec<WaitingRow>("SELECT * FROM waiting ORDER BY seq").toArray()) {
        if (this.blockedBy(w) !== null) continue;
        this.sql.exec("DELETE FROM waiting WHERE run_id = ?", w.run_id);
        this.sql.exec(
          "INSERT OR REPLACE INTO active (run_id, dag_name, queue, started) VALUES (?, ?, ?, 0)",
          w.run_id,
          w.dag_name,
          w.queue,
        );
        admitted.push(w.run_id);
      }
    });
    // Runs admitted earlier whose start did not get through are tried again too.
    const unstarted = this.sql.exec<{ run_id: string }>("SELECT run_id FROM active WHERE started = 0").toArray();
    for (const r of unstarted) if (!admitted.includes(r.run_id)) admitted.push(r.run_id);
    return admitted.filter((id) => !this.starting.has(id));
  }

  /** Starts admitted runs in the order admitted; a failed start is retried by the alarm. */
  private async startAll(runIds: string[]): Promise<void> {
    let failed = false;
    let freed = false;
    for (const runId of runIds) {
      // Another call started it while this one awaited an earlier run's admit.
      if (this.starting.has(runId)) continue;
      this.starting.add(runId);
      try {
        const r = await runStub(this.env, runId).admit();
        if (r.ok && (r.value === "running" || r.value === "waiting")) {
          this.sql.exec("UPDATE active SET started = 1 WHERE run_id = ?", runId);
        } else {
          // Gone, or stopped while it waited: it holds no slot.
          this.sql.exec("DELETE FROM active WHERE run_id = ?", runId);
          freed = true;
        }
      } catch (err) {
        console.error(`admitted run ${runId}: RunObject unreachable, retrying`, err);
        failed = true;
      } finally {
        this.starting.delete(runId);
      }
    }
    if (failed) await this.ctx.storage.setAlarm(Date.now() + START_RETRY_MS);
    else if (freed) await this.startAll(this.pump());
  }
}
