// WebhookObject: one Durable Object per webhook, its delivery queue. Runs and dispatchers hand
// it events (`enqueue`, idempotent by event id) and return at once; its alarm sends what is
// due, records every attempt, and schedules the failed ones again with backoff until they
// succeed or MAX_ATTEMPTS / MAX_DELIVERY_AGE_MS give them up. A slow receiver holds up only
// this object, never a run.
import { DurableObject } from "cloudflare:workers";
import migrations from "../../migrations/do/webhook/migrations.js";
import { openStorage } from "../do-storage";
import type { Env } from "../env";
import {
  DELIVERIES_PER_ALARM,
  DELIVERY_TIMEOUT_MS,
  KEPT_DELIVERIES,
  MAX_EVENT_ERROR_CHARS,
  RETRY_BASE_MS,
} from "./limits";
import type { WebhookEvent } from "./payload";
import { webhookRow } from "./registry";
import { nextAttemptAt } from "./retries";
import * as schema from "./schema";
import { type AttemptResult, sendOnce } from "./send";

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  durationMs: number;
  httpStatus?: number;
  error?: string;
}

export interface Delivery {
  id: string;
  event: string;
  createdAt: string;
  status: "pending" | "delivered" | "failed";
  nextAttemptAt?: string;
  attempts: DeliveryAttempt[];
}

/** How long past its timeout an attempt under way keeps its delivery from being sent again. */
const IN_FLIGHT_GRACE_MS = 5_000;

interface DeliveryRow extends Record<string, SqlStorageValue> {
  id: string;
  type: string;
  event: string;
  created_at: number;
  status: string;
  attempts: number;
  next_at: number | null;
}

export class WebhookObject extends DurableObject<Env> {
  private sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    openStorage(ctx, schema, migrations);
  }

  /** Queues events for delivery; an event already queued (same id) is not queued twice. */
  async enqueue(hookId: string, events: WebhookEvent[]): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('hook_id', ?)", hookId);
      for (const e of events) {
        const event = trimEvent(e);
        this.sql.exec(
          `INSERT OR IGNORE INTO deliveries (id, type, event, created_at, status, attempts, next_at)
           VALUES (?, ?, ?, ?, 'pending', 0, ?)`,
          event.id,
          event.type,
          JSON.stringify(event),
          now,
          now,
        );
      }
    });
    await this.arm();
  }

  /** The newest deliveries first, each with its attempts. */
  deliveries(limit: number): Delivery[] {
    const rows = this.sql
      .exec<DeliveryRow>("SELECT * FROM deliveries ORDER BY created_at DESC, rowid DESC LIMIT ?", limit)
      .toArray();
    return rows.map((r) => {
      const attempts = this.sql
        .exec<{ attempt: number; at: number; duration_ms: number; http_status: number | null; error: string | null }>(
          "SELECT attempt, at, duration_ms, http_status, error FROM attempts WHERE delivery_id = ? ORDER BY attempt",
          r.id,
        )
        .toArray()
        .map((a) => ({
          attempt: a.attempt,
          at: new Date(a.at).toISOString(),
          durationMs: a.duration_ms,
          ...(a.http_status !== null && { httpStatus: a.http_status }),
          ...(a.error !== null && { error: a.error }),
        }));
      return {
        id: r.id,
        event: r.type,
        createdAt: new Date(r.created_at).toISOString(),
        status: r.status as Delivery["status"],
        ...(r.status === "pending" && r.next_at !== null && { nextAttemptAt: new Date(r.next_at).toISOString() }),
        attempts,
      };
    });
  }

  /** The webhook was deleted: nothing more is sent, nothing is kept. */
  async destroy(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const hookId = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'hook_id'").toArray()[0]?.value;
    const hook = hookId ? await webhookRow(this.env.DB, hookId) : undefined;
    if (!hook) {
      // Deleted while events were on their way: they have nobody to go to.
      await this.destroy();
      return;
    }
    const now = Date.now();
    const due = this.sql
      .exec<DeliveryRow>(
        "SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?",
        now,
        DELIVERIES_PER_ALARM,
      )
      .toArray();
    const timeoutMs = positive(this.env.DAGFLARE_WEBHOOK_TIMEOUT_MS) ?? DELIVERY_TIMEOUT_MS;
    // Taken, in the same synchronous step as the read: an alarm that starts while these are
    // in flight (an enqueue re-arms it) does not send them again. If this object stops
    // before recording their answers, they are due again after the timeout.
    for (const d of due) {
      this.sql.exec("UPDATE deliveries SET next_at = ? WHERE id = ?", now + timeoutMs + IN_FLIGHT_GRACE_MS, d.id);
    }
    const results = await Promise.all(due.map((d) => sendOnce(hook, JSON.parse(d.event) as WebhookEvent, timeoutMs)));
    const baseMs = positive(this.env.DAGFLARE_WEBHOOK_RETRY_BASE_MS) ?? RETRY_BASE_MS;
    this.ctx.storage.transactionSync(() => {
      due.forEach((d, i) => {
        const result = results[i];
        if (result) this.record(d, result, baseMs);
      });
      this.prune();
    });
    await this.arm();
  }

  private record(d: DeliveryRow, r: AttemptResult, baseMs: number): void {
    const attempt = d.attempts + 1;
    this.sql.exec(
      "INSERT OR REPLACE INTO attempts (delivery_id, attempt, at, duration_ms, http_status, error) VALUES (?, ?, ?, ?, ?, ?)",
      d.id,
      attempt,
      r.at,
      r.durationMs,
      r.httpStatus ?? null,
      r.error ?? null,
    );
    const end = r.at + r.durationMs;
    const next = r.ok ? undefined : nextAttemptAt(attempt, d.created_at, end, baseMs);
    const status = r.ok ? "delivered" : next === undefined ? "failed" : "pending";
    this.sql.exec(
      "UPDATE deliveries SET attempts = ?, status = ?, next_at = ?, finished_at = ? WHERE id = ?",
      attempt,
      status,
      next ?? null,
      status === "pending" ? null : end,
      d.id,
    );
  }

  /** Keeps the newest KEPT_DELIVERIES finished deliveries and their attempts. */
  private prune(): void {
    const old = `SELECT id FROM deliveries WHERE status != 'pending'
                 ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ${KEPT_DELIVERIES}`;
    this.sql.exec(`DELETE FROM attempts WHERE delivery_id IN (${old})`);
    this.sql.exec(`DELETE FROM deliveries WHERE id IN (${old})`);
  }

  /** One alarm, at the earliest pending delivery; none when nothing is pending. */
  private async arm(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM deliveries WHERE status = 'pending'")
      .one().at;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }
}

/** A step's error may be long: an event carries its start. */
function trimEvent(e: WebhookEvent): WebhookEvent {
  const data = e.data;
  if (!("step" in data) || !data.step?.error || data.step.error.length <= MAX_EVENT_ERROR_CHARS) return e;
  return {
    ...e,
    data: { ...data, step: { ...data.step, error: `${data.step.error.slice(0, MAX_EVENT_ERROR_CHARS)}…` } },
  };
}

function positive(text: string | undefined): number | undefined {
  const n = Number(text ?? "");
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
