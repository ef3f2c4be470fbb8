// A run's timers table is mirrored in memory (src/run/object/timers.ts) so that arming the alarm
// and clearing a timer that is not set cost no query. The alarm must still come no later than
// the earliest timer stored, whatever was set, moved, cleared, taken or rolled back.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectDb } from "../../src/do-storage";
import * as schema from "../../src/run/object/schema";
import { TimerTable } from "../../src/run/object/timers";
import { runStub } from "../../src/stubs";

const stored = (sql: SqlStorage) => sql.exec<{ key: string; at: number }>("SELECT key, at FROM timers").toArray();

describe("a run's timers", () => {
  it("keep the alarm no later than the earliest stored timer through sets, moves, clears, takes, rollbacks and fired alarms", async () => {
    await runInDurableObject(runStub(env, "timers-mirror"), async (_o, state) => {
      const timers = new TimerTable(objectDb(state, schema), state.storage);
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return Math.floor((seed / 2_147_483_648) * n);
      };
      const base = Date.now() + 60_000;
      for (let i = 0; i < 300; i++) {
        const key = `lease:s${rand(12)}`;
        const roll = rand(10);
        if (roll < 5) timers.set(key, base + rand(10_000));
        else if (roll < 8) timers.clear(key);
        else if (roll < 9) {
          const row = stored(state.storage.sql).find((r) => r.key === key);
          if (row) expect(timers.take(key, row.at)).toBe(true);
        } else {
          // A transaction that throws rolls its timers back; the RunObject then has the mirror read again.
          const first = stored(state.storage.sql).sort((a, b) => a.at - b.at)[0];
          expect(() =>
            state.storage.transactionSync(() => {
              if (first) timers.clear(first.key);
              timers.set(key, base + 20_000);
              throw new Error("refused");
            }),
          ).toThrow("refused");
          timers.forget();
        }
        // As after the alarm fired: arming sets it afresh, at the earliest timer it knows of.
        if (rand(2)) timers.due(0);
        await timers.arm();
        const rows = stored(state.storage.sql);
        const alarm = await state.storage.getAlarm();
        if (rows.length) expect(alarm).not.toBeNull();
        for (const r of rows) expect(alarm as number).toBeLessThanOrEqual(r.at);
      }
    });
  });

  it("take only a timer still set for the time it came due", async () => {
    await runInDurableObject(runStub(env, "timers-take"), async (_o, state) => {
      const timers = new TimerTable(objectDb(state, schema), state.storage);
      const at = Date.now() + 60_000;
      timers.set("lease:a", at);
      timers.set("lease:a", at + 1_000);
      expect(timers.take("lease:a", at)).toBe(false);
      expect(timers.take("lease:a", at + 1_000)).toBe(true);
      expect(stored(state.storage.sql)).toEqual([]);
    });
  });
});
