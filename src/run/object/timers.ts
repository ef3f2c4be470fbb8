// A run's timers table and its one alarm (anchored on the partykit/agents schedule table):
// rows `(key, at)`, the alarm armed no later than the earliest row, deleted when none is left.
// The table is mirrored in memory (written through), so that the earliest timer is found
// without a query and clearing a timer that is not set costs no statement: every event sets
// and clears a few timers and arms the alarm, and a statement costs far more than a map lookup.
import { and, asc, eq, lte, sql } from "drizzle-orm";
import type { ObjectDb } from "../../do-storage";
import * as schema from "./schema";

const { meta, timers } = schema;
const ALARM_AT = "alarm_at";

export class TimerTable {
  /** The alarm time last set by this instance (undefined: unknown, e.g. after a restart). */
  private armedAt?: number | null;
  private readonly upsert;
  private readonly remove;
  private readonly removeAt;
  private readonly dueBy;
  private readonly saveArmedFor;
  private readonly loadArmedFor;
  private readonly all;
  /** The table's rows, key to time; undefined until read (and after `forget`). */
  private rows?: Map<string, number>;
  /** The earliest time in `rows` (null: none); undefined when it must be looked for again. */
  private earliestAt?: number | null;

  constructor(
    db: ObjectDb<typeof schema>,
    private readonly storage: DurableObjectStorage,
  ) {
    this.upsert = db
      .insert(timers)
      .values({ key: sql.placeholder("key"), at: sql.placeholder("at") })
      .onConflictDoUpdate({ target: timers.key, set: { at: sql`excluded.at` } })
      .prepare();
    this.remove = db
      .delete(timers)
      .where(eq(timers.key, sql.placeholder("key")))
      .prepare();
    this.removeAt = db
      .delete(timers)
      .where(and(eq(timers.key, sql.placeholder("key")), eq(timers.at, sql.placeholder("at"))))
      .returning({ key: timers.key })
      .prepare();
    this.all = db.select({ key: timers.key, at: timers.at }).from(timers).prepare();
    this.dueBy = db
      .select({ key: timers.key, at: timers.at })
      .from(timers)
      .where(lte(timers.at, sql.placeholder("by")))
      .orderBy(asc(timers.at))
      .prepare();
    this.saveArmedFor = db
      .insert(meta)
      .values({ key: ALARM_AT, value: sql.placeholder("value") })
      .onConflictDoUpdate({ target: meta.key, set: { value: sql`excluded.value` } })
      .prepare();
    this.loadArmedFor = db.select({ value: meta.value }).from(meta).where(eq(meta.key, ALARM_AT)).prepare();
  }

  /** The mirror of the table, read on first need. */
  private mirror(): Map<string, number> {
    if (!this.rows) {
      this.rows = new Map(this.all.all().map((r) => [r.key, r.at]));
      this.earliestAt = undefined;
    }
    return this.rows;
  }

  /** Sets or moves a timer (the alarm follows at the next `arm`). */
  set(key: string, at: number): void {
    const rows = this.mirror();
    const was = rows.get(key);
    if (was === at) return;
    this.upsert.run({ key, at });
    rows.set(key, at);
    if (this.earliestAt === undefined) return;
    if (this.earliestAt === null || at < this.earliestAt) this.earliestAt = at;
    else if (was === this.earliestAt) this.earliestAt = undefined;
  }

  clear(key: string): void {
    const rows = this.mirror();
    const was = rows.get(key);
    if (was === undefined) return;
    this.remove.run({ key });
    this.removed(key, was);
  }

  private removed(key: string, at: number): void {
    this.rows?.delete(key);
    if (at === this.earliestAt) this.earliestAt = undefined;
  }

  /**
   * Storage was rolled back or emptied behind the mirror (a transaction that threw, a wipe): it
   * is read again on next need.
   */
  forget(): void {
    this.rows = undefined;
    this.earliestAt = undefined;
  }

  /** The earliest timer's time, null when there is none. */
  private earliest(): number | null {
    const rows = this.mirror();
    if (this.earliestAt === undefined) {
      let first: number | null = null;
      for (const at of rows.values()) if (first === null || at < first) first = at;
      this.earliestAt = first;
    }
    return this.earliestAt;
  }

  /**
   * Timers due when the alarm fires, earliest first. Timers up to the time the alarm was armed
   * for are due even if the clock reads a little earlier (or a test fires the alarm ahead of
   * time); later ones are not, since the alarm may have been armed early (see `arm`).
   */
  due(now: number): Array<{ key: string; at: number }> {
    this.armedAt = undefined;
    const armedFor = Number(this.loadArmedFor.get()?.value ?? 0);
    return this.dueBy.all({ by: Math.max(now, armedFor) });
  }

  /** Removes a due timer; false when an earlier event already moved or cleared it. */
  take(key: string, at: number): boolean {
    const taken = this.removeAt.all({ key, at }).length > 0;
    if (taken) this.removed(key, at);
    return taken;
  }

  /**
   * Arms the alarm no later than the earliest timer. It is moved only when a timer comes due
   * sooner than it: lease timers move later on every claim and heartbeat, and an alarm that
   * finds nothing due simply re-arms (`due` forgets `armedAt` first). This keeps storage alarm
   * writes off the per-step path.
   */
  async arm(): Promise<void> {
    const next = this.earliest();
    if (next === null) {
      if (this.armedAt === undefined) {
        await this.storage.deleteAlarm();
        this.armedAt = null;
      }
      return;
    }
    if (this.armedAt != null && this.armedAt <= next) return;
    this.saveArmedFor.run({ value: String(next) });
    await this.storage.setAlarm(next);
    this.armedAt = next;
  }

  /** After the storage was emptied: the alarm is gone, nothing is known to be armed. */
  async reset(): Promise<void> {
    await this.storage.deleteAlarm();
    this.armedAt = undefined;
    this.forget();
  }
}
