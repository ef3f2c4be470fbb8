// The run's webhook events on their way out. `record` (inside the transaction that stores a
// state change) stores each event of the change once per webhook that takes it, with the
// `webhooks` timer as a safety net; `deliver` (after it) hands them to each webhook's delivery
// object and forgets them. If the object is interrupted in between, the timer hands them over
// later: at least once; the delivery object ignores an event id it already has. With no
// webhook, nothing is stored and no call is made.
import type { Env } from "../../env";
import { webhookStub } from "../../stubs";
import { subscribed, type WebhookSubscription } from "../../webhooks/events";
import type { WebhookEvent } from "../../webhooks/payload";
import { runEvents } from "../../webhooks/run-events";
import type { RunState } from "../engine";
import type { TimerTable } from "./timers";

/** The timer key of undelivered webhook events (no engine timer key lacks a colon but these). */
export const WEBHOOK_TIMER = "webhooks";
const RETRY_MS = 1_000;
const SAFETY_MS = 5_000;

export class WebhookOutbox {
  constructor(
    private readonly env: Env,
    private readonly sql: SqlStorage,
    private readonly timers: TimerTable,
  ) {}

  /**
   * Stores the events of one transition for the webhooks that take them; true when any.
   * `changed`: the steps the transition wrote, in step order.
   */
  record(
    hooks: WebhookSubscription[],
    before: RunState | undefined,
    after: RunState,
    now: number,
    changed: Iterable<string>,
  ): boolean {
    let any = false;
    for (const { subject, event } of runEvents(before, after, now, changed)) {
      for (const hook of hooks) {
        if (!subscribed(hook, subject)) continue;
        this.sql.exec(
          "INSERT OR IGNORE INTO webhook_events (hook_id, event_id, event) VALUES (?, ?, ?)",
          hook.id,
          event.id,
          JSON.stringify(event),
        );
        any = true;
      }
    }
    if (any) this.timers.set(WEBHOOK_TIMER, now + SAFETY_MS);
    return any;
  }

  /** Hands every stored event to its webhook's delivery object; on failure the timer tries again. */
  async deliver(): Promise<void> {
    const rows = this.sql
      .exec<{ hook_id: string; event_id: string; event: string }>("SELECT hook_id, event_id, event FROM webhook_events")
      .toArray();
    const byHook = new Map<string, WebhookEvent[]>();
    for (const r of rows)
      byHook.set(r.hook_id, [...(byHook.get(r.hook_id) ?? []), JSON.parse(r.event) as WebhookEvent]);
    const results = await Promise.allSettled(
      [...byHook].map(([hookId, events]) => webhookStub(this.env, hookId).enqueue(hookId, events)),
    );
    let failed = false;
    [...byHook].forEach(([hookId, events], i) => {
      if (results[i]?.status === "fulfilled") {
        for (const e of events)
          this.sql.exec("DELETE FROM webhook_events WHERE hook_id = ? AND event_id = ?", hookId, e.id);
      } else {
        failed = true;
        console.error(`webhook ${hookId}: delivery object unreachable, retrying`, results[i]);
      }
    });
    // Events another transition stored meanwhile keep the timer until their own hand-over.
    const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_events").one().n;
    if (failed) this.timers.set(WEBHOOK_TIMER, Date.now() + RETRY_MS);
    else if (left === 0) this.timers.clear(WEBHOOK_TIMER);
    await this.timers.arm();
  }
}
