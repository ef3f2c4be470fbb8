// What a pool's dispatcher knows of its runners: each runner's latest report (the fleet, and
// who holds a runner id), the runners lost (their leases expired), and, in the default pool's
// dispatcher, every pool a runner ever reported to. Health and presentation are in fleet.ts.
import { DEFAULT_POOL, formatSelector, matches, type Selector } from "../shared/selector";
import { FORGET_AFTER_MS, type RunnerReport, WARNING_AFTER_MS } from "./fleet";
import type { LeaseAsk } from "./task-queue";

type RunnerRow = { token_id: string | null; last_seen_at: number };

export class RunnerTable {
  constructor(private readonly sql: SqlStorage) {}

  /** The stored row of a runner id, if any. */
  row(runnerId: string): RunnerRow | undefined {
    return this.sql
      .exec<RunnerRow>("SELECT token_id, last_seen_at FROM runners WHERE runner_id = ?", runnerId)
      .toArray()[0];
  }

  /** A silent runner's id is free again, so a runner restarted with a new token keeps its id. */
  ownedElsewhere(row: RunnerRow, tokenId: string, now: number): boolean {
    return row.token_id !== null && row.token_id !== tokenId && row.last_seen_at >= now - WARNING_AFTER_MS;
  }

  /** Stores a runner's report, sent with token `tokenId`. */
  save(report: RunnerReport, tokenId: string): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO runners (runner_id, report, last_seen_at, token_id) VALUES (?, ?, ?, ?)",
      report.runnerId,
      JSON.stringify(report),
      report.lastSeenAt,
      tokenId,
    );
  }

  /**
   * A runner let leases expire: requests it began before `at` are left over from a process
   * that is gone (its connection may not have been noticed as closed) and get no work.
   */
  lost(lost: Array<{ runnerId: string; at: number }>): void {
    for (const l of lost) {
      this.sql.exec(
        `INSERT INTO lost_runners (runner_id, since) VALUES (?, ?)
         ON CONFLICT (runner_id) DO UPDATE SET since = MAX(since, excluded.since)`,
        l.runnerId,
        l.at,
      );
    }
  }

  /** Whether a request began before its runner was marked lost (see `lost`). */
  isLeftover(ask: LeaseAsk): boolean {
    const lostSince = this.sql
      .exec<{ since: number }>("SELECT since FROM lost_runners WHERE runner_id = ?", ask.runnerId)
      .toArray()[0]?.since;
    return lostSince !== undefined && ask.askedAt < lostSince;
  }

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
}
