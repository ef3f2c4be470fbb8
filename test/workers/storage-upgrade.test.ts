// Durable Object storage written before migrations existed (tables created by hand in each
// object's constructor and extended with ALTER TABLE) opens under the migrations and keeps its data.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DispatchObject } from "../../src/dispatch/dispatch-object";
import { QueueObject } from "../../src/queue/queue-object";
import { RunObject } from "../../src/run/run-object";
import { admission, dispatcherFor, runStub } from "../../src/stubs";
import { complete, createDag, lease, runnerApi, startDag } from "./helpers";

/** Builds the object anew over the same storage, as after a restart, once it has opened. */
async function reopen<T>(state: DurableObjectState, make: () => T): Promise<T> {
  const object = make();
  await state.blockConcurrencyWhile(async () => {});
  return object;
}

/** Empties the storage, the migrations' own table included, and writes it in the old shape. */
function writeOldShape(sql: SqlStorage, ddl: string, rows: Array<[string, ...SqlStorageValue[]]>): void {
  const tables = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    )
    .toArray();
  for (const { name } of tables) sql.exec(`DROP TABLE "${name}"`);
  sql.exec(ddl);
  for (const [statement, ...values] of rows) sql.exec(statement, ...values);
}

describe("storage written before migrations", () => {
  it("opens a run and keeps its state, run log, step log and timers", async () => {
    await createDag("stored-old", "steps:\n  - name: one\n    command: echo\n  - name: two\n    command: echo\n");
    const runId = await startDag("stored-old");
    const [l] = await lease();
    const logged = await runnerApi(`/leases/${l.leaseId}/logs`, {
      token: l.token,
      entries: [
        { seq: 1, stream: "stdout", text: "hello\nwor" },
        { seq: 2, stream: "stdout", text: "ld\n" },
      ],
    });
    expect(logged.status).toBe(200);
    await complete(l, 0);
    // The second step runs: its lease has a timer.
    expect(await lease()).toHaveLength(1);
    const stub = runStub(env, runId);
    const before = await stub.snapshot();
    const dump = await runInDurableObject(stub, (_o, state) => ({
      meta: state.storage.sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray(),
      steps: state.storage.sql.exec<{ name: string; state: string }>("SELECT name, state FROM steps").toArray(),
      timers: state.storage.sql.exec<{ key: string; at: number }>("SELECT key, at FROM timers").toArray(),
      runLog: state.storage.sql.exec<{ at: number; message: string }>("SELECT at, message FROM run_log").toArray(),
    }));
    expect(dump.timers.length).toBeGreaterThan(0);

    const reopened = await runInDurableObject(stub, async (_o, state) => {
      writeOldShape(
        state.storage.sql,
        // As the constructor created them, then extended the logs table.
        `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE steps (name TEXT PRIMARY KEY, state TEXT NOT NULL);
         CREATE TABLE timers (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
         CREATE TABLE run_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, message TEXT NOT NULL);
         CREATE TABLE logs (step TEXT NOT NULL, attempt INTEGER NOT NULL, seq INTEGER NOT NULL,
           stream TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (step, attempt, seq));
         CREATE TABLE log_meta (step TEXT NOT NULL, attempt INTEGER NOT NULL,
           acked_seq INTEGER NOT NULL, bytes INTEGER NOT NULL, dropped_bytes INTEGER NOT NULL,
           PRIMARY KEY (step, attempt));
         ALTER TABLE logs ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE logs ADD COLUMN newlines INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE logs ADD COLUMN open_end INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE logs ADD COLUMN line_end INTEGER;
         CREATE INDEX logs_by_line ON logs (step, attempt, stream, line_end, seq);`,
        [
          ...dump.meta.map((r): [string, ...SqlStorageValue[]] => ["INSERT INTO meta VALUES (?, ?)", r.key, r.value]),
          ...dump.steps.map((r): [string, ...SqlStorageValue[]] => [
            "INSERT INTO steps VALUES (?, ?)",
            r.name,
            r.state,
          ]),
          ...dump.timers.map((r): [string, ...SqlStorageValue[]] => ["INSERT INTO timers VALUES (?, ?)", r.key, r.at]),
          ...dump.runLog.map((r): [string, ...SqlStorageValue[]] => [
            "INSERT INTO run_log (at, message) VALUES (?, ?)",
            r.at,
            r.message,
          ]),
          ["INSERT INTO logs VALUES ('one', 1, 1, 'stdout', ?, 9, 1, 1, 1)", "hello\nwor"],
          ["INSERT INTO logs VALUES ('one', 1, 2, 'stdout', ?, 3, 1, 0, 2)", "ld\n"],
          ["INSERT INTO log_meta VALUES ('one', 1, 2, 12, 0)"],
        ],
      );
      const o = await reopen(state, () => new RunObject(state, env));
      return {
        snapshot: o.snapshot(),
        runLog: o.runLog(),
        log: o.stepLog("one", "stdout", {}),
        timers: state.storage.sql.exec<{ key: string; at: number }>("SELECT key, at FROM timers").toArray(),
      };
    });
    expect(reopened.snapshot).toEqual(before);
    expect(reopened.runLog).toEqual(await stub.runLog());
    expect(reopened.log).toMatchObject({ ok: true, value: { content: "hello\nworld\n", totalLines: 2 } });
    expect(reopened.timers).toEqual(dump.timers);
  });

  it("opens a dispatcher and keeps its tasks, runners and pools", async () => {
    const stub = dispatcherFor(env, "stored-old-pool");
    const reopened = await runInDurableObject(stub, async (_o, state) => {
      writeOldShape(
        state.storage.sql,
        `CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, step TEXT NOT NULL,
           dispatch_seq INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, UNIQUE (run_id, step, dispatch_seq));
         CREATE TABLE lost_runners (runner_id TEXT PRIMARY KEY, since INTEGER NOT NULL);
         CREATE TABLE runners (runner_id TEXT PRIMARY KEY, report TEXT NOT NULL, last_seen_at INTEGER NOT NULL);
         CREATE TABLE pools (name TEXT PRIMARY KEY);
         ALTER TABLE tasks ADD COLUMN selector TEXT NOT NULL DEFAULT '{}';
         ALTER TABLE runners ADD COLUMN token_id TEXT;`,
        [
          [
            "INSERT INTO tasks (run_id, step, dispatch_seq, enqueued_at, selector) VALUES ('r', 's', 1, 1, ?)",
            '{"pool":"x"}',
          ],
          ["INSERT INTO pools VALUES ('gpu')"],
        ],
      );
      const o = await reopen(state, () => new DispatchObject(state, env));
      // The same task enqueued again is the one already stored.
      o.enqueue([{ runId: "r", step: "s", dispatchSeq: 1, selector: { pool: "x" } }]);
      return { pending: o.pending(), pools: o.pools() };
    });
    expect(reopened.pending).toBe(1);
    expect(reopened.pools).toContain("gpu");
  });

  it("opens admission and keeps its queues and waiting runs", async () => {
    const reopened = await runInDurableObject(admission(env), async (_o, state) => {
      writeOldShape(
        state.storage.sql,
        `CREATE TABLE queues (name TEXT PRIMARY KEY, max_concurrency INTEGER NOT NULL);
         CREATE TABLE waiting (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE,
           dag_name TEXT NOT NULL, queue TEXT, max_active_runs INTEGER);
         CREATE TABLE active (run_id TEXT PRIMARY KEY, dag_name TEXT NOT NULL, queue TEXT,
           started INTEGER NOT NULL DEFAULT 0);`,
        [
          ["INSERT INTO queues VALUES ('nightly', 3)"],
          ["INSERT INTO active VALUES ('running-run', 'd', 'nightly', 1)"],
          ["INSERT INTO waiting (run_id, dag_name, queue, max_active_runs) VALUES ('waiting-run', 'd', 'nightly', 1)"],
        ],
      );
      const o = await reopen(state, () => new QueueObject(state, env));
      return { queues: o.queueConfigs(), why: o.why(["waiting-run"]) };
    });
    expect(reopened.queues).toEqual([{ name: "nightly", maxConcurrency: 3 }]);
    expect(reopened.why["waiting-run"]).toBeTruthy();
  });
});
