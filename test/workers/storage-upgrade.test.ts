// Durable Object storage written before migrations existed (tables created by hand in each
// object's constructor and extended with ALTER TABLE) opens under the migrations and keeps its data.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admission, dispatcherFor, runStub } from "../../src/stubs";
import { complete, createDag, details, fireRunAlarm, lease, nodeOf, runnerApi, startDag } from "./helpers";

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

/**
 * A step row as it was stored before steps had a phase: Dagu's status plus the flags `queued`,
 * `pending`, a lease with `confirmed`, a `child` (src/run/object/stored-step.ts reads it back).
 */
function asBeforePhases(json: string): string {
  const { phase, ...step } = JSON.parse(json);
  const old: Record<string, unknown> = { ...step, queued: phase.kind === "queued", pending: phase.kind === "held" };
  if (phase.kind === "leased" || phase.kind === "running") {
    old.lease = { ...phase.lease, confirmed: phase.kind === "running" };
  }
  if (phase.kind === "calling") old.child = { runId: phase.childRunId, stopRequested: phase.stopRequested };
  return JSON.stringify(old);
}

describe("a run stored before steps had a phase", () => {
  it("goes on from where it was and finishes: a confirmed lease, a retry wait and a step not yet ready", async () => {
    await createDag(
      "stored-flags",
      `type: graph
steps:
  - name: one
    command: echo one
  - name: two
    command: exit 1
    retryPolicy:
      limit: 1
      intervalSec: 60
  - name: three
    command: echo three
    depends: [one, two]
`,
    );
    const runId = await startDag("stored-flags");
    const first = await lease(2);
    const one = first.find((l: { stepName: string }) => l.stepName === "one");
    const two = first.find((l: { stepName: string }) => l.stepName === "two");
    expect((await runnerApi(`/leases/${one.leaseId}/heartbeat`, { token: one.token })).status).toBe(200);
    await complete(two, 1);
    const stub = runStub(env, runId);
    const before = await stub.snapshot();
    expect(before.ok && before.value.state.steps.two?.status).toBe("retrying");

    await runInDurableObject(stub, (_o, state) => {
      const sql = state.storage.sql;
      for (const r of sql.exec<{ name: string; state: string }>("SELECT name, state FROM steps").toArray()) {
        sql.exec("UPDATE steps SET state = ? WHERE name = ?", asBeforePhases(r.state), r.name);
      }
    });
    // The object starts again over the old rows, as after an upgrade of dagflare.
    await evictDurableObject(stub);
    expect(await stub.snapshot()).toEqual(before);
    const stored = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec<{ state: string }>("SELECT state FROM steps").toArray(),
    );
    expect(stored.every((r) => "phase" in JSON.parse(r.state))).toBe(true);

    // The runner that held `one` completes it; `two`'s retry comes due; then `three` runs.
    expect((await complete(one, 0)).status).toBe(200);
    expect(await fireRunAlarm(runId)).toBe(true);
    const [again] = await lease();
    expect(again).toMatchObject({ stepName: "two", attempt: 2 });
    await complete(again, 0);
    const [last] = await lease();
    expect(last).toMatchObject({ stepName: "three" });
    await complete(last, 0);
    const d = await details("stored-flags", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(nodeOf(d, "two")).toMatchObject({ statusLabel: "succeeded", retryCount: 1 });
  });
});

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

    await runInDurableObject(stub, (_o, state) => {
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
    });
    // The object starts again over this storage, as after a restart.
    await evictDurableObject(stub);
    expect(await stub.snapshot()).toEqual(before);
    const runLog = await stub.runLog();
    expect(runLog).toMatchObject({ ok: true });
    expect(runLog.ok && runLog.value.trim().split("\n")).toHaveLength(dump.runLog.length);
    expect(await stub.stepLog("one", "stdout", {})).toMatchObject({
      ok: true,
      value: { content: "hello\nworld", totalLines: 2 },
    });
    const timers = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec<{ key: string; at: number }>("SELECT key, at FROM timers").toArray(),
    );
    expect(timers).toEqual(dump.timers);
  });

  it("opens a dispatcher and keeps its tasks, runners and pools", async () => {
    const stub = dispatcherFor(env, "stored-old-pool");
    await runInDurableObject(stub, (_o, state) => {
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
    });
    await evictDurableObject(stub);
    // The same task enqueued again is the one already stored.
    await stub.enqueue([{ runId: "r", step: "s", dispatchSeq: 1, selector: { pool: "x" } }]);
    expect(await stub.pending()).toBe(1);
    expect(await stub.pools()).toContain("gpu");
  });

  it("opens admission and keeps its queues and waiting runs", async () => {
    const stub = admission(env);
    await runInDurableObject(stub, (_o, state) => {
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
    });
    await evictDurableObject(stub);
    expect(await stub.queueConfigs()).toEqual([{ name: "nightly", maxConcurrency: 3 }]);
    expect((await stub.why(["waiting-run"]))["waiting-run"]).toMatch(/maxActiveRuns 1 of DAG d reached/);
  });
});
