// Step logs at their cap: every read answers, costs what it returns, and the cap counts bytes.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_LOG_BYTES_PER_ATTEMPT, MAX_LOG_READ_BYTES } from "../../../src/limits";
import { readLog } from "../../../src/run/log-store";
import { MAX_LOG_BATCH_BYTES } from "../../../src/shared/protocol";
import { runStub } from "../../../src/stubs";
import { api, complete, createDag, lease, runnerApi, startDag } from "../helpers";

const bytes = (text: string) => new TextEncoder().encode(text).length;

describe("a step log at its cap", () => {
  // 1,023 bytes a line ("é" is two bytes), 1,024 lines a batch: just under 1 MiB a batch.
  const line = `${"é".repeat(511)}\n`;
  const batch = line.repeat(1024);
  const batches = Math.ceil(MAX_LOG_BYTES_PER_ATTEMPT / bytes(batch)) + 1;
  let runId = "";

  it("takes batches past the cap, counting it in bytes and dropping the rest", async () => {
    expect(bytes(batch)).toBeLessThanOrEqual(MAX_LOG_BATCH_BYTES);
    // Over the cap in bytes, under it in characters (which the cap once counted).
    expect(batch.length * batches).toBeLessThan(MAX_LOG_BYTES_PER_ATTEMPT);
    await createDag("flood", "steps:\n  - name: loud\n    command: echo\n");
    runId = await startDag("flood");
    const [l] = await lease();
    for (let seq = 1; seq <= batches; seq++) {
      const r = await runnerApi(`/leases/${l.leaseId}/logs`, {
        token: l.token,
        entries: [{ seq, stream: "stdout", text: batch }],
      });
      expect(r.status).toBe(200);
      expect(r.body.ackedSeq).toBe(seq);
    }
    expect((await complete(l, 0)).status).toBe(200);
    const r = await api("GET", `/dag-runs/flood/${runId}/steps/loud/log?tail=1`);
    expect(r.status).toBe(200);
    expect(r.body.droppedBytes).toBe(bytes(batch) * batches - MAX_LOG_BYTES_PER_ATTEMPT);
  });

  it.each([
    ["the last line", "tail=1"],
    ["the first two lines", "head=2"],
    ["lines by offset and limit", "offset=20000&limit=3"],
  ])("answers a read of %s with just those lines", async (_what, query) => {
    const r = await api("GET", `/dag-runs/flood/${runId}/steps/loud/log?${query}`);
    expect(r.status).toBe(200);
    const lines = r.body.content.split("\n");
    expect(lines.length).toBe(r.body.lineCount);
    expect(r.body.lineCount).toBeLessThanOrEqual(3);
    expect(r.body.hasMore).toBe(true);
    // Whole lines of the log, except the last one the cap cut short.
    for (const l of lines.slice(0, -1)) expect(`${l}\n`).toBe(line);
  });

  it("counts every line of the capped log", async () => {
    const r = await api("GET", `/dag-runs/flood/${runId}/steps/loud/log?tail=1`);
    expect(r.body.totalLines).toBe(Math.ceil(MAX_LOG_BYTES_PER_ATTEMPT / bytes(line)));
  });

  it("answers a read of the whole log with its first part, bounded in bytes", async () => {
    const r = await api("GET", `/dag-runs/flood/${runId}/steps/loud/log`);
    expect(r.status).toBe(200);
    expect(bytes(r.body.content)).toBeLessThanOrEqual(MAX_LOG_READ_BYTES);
    // Whole lines, joined by newlines.
    expect(r.body.content).toBe(line.repeat(r.body.lineCount).slice(0, -1));
    expect(r.body.hasMore).toBe(true);
  });
});

describe("log reads of attempts that are not there", () => {
  it("answers an attempt past the step's last with a 404 naming the attempts it has", async () => {
    await createDag("once", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("once");
    const [l] = await lease();
    await complete(l, 0);
    const r = await api("GET", `/dag-runs/once/${runId}/steps/only/log?attempt=2`);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/no attempt 2 .*attempts 1 to 1/),
    });
    expect((await api("GET", `/dag-runs/once/${runId}/steps/only/log?attempt=1`)).status).toBe(200);
  });
});

describe("logs of a run stored before rows carried sizes and lines", () => {
  it("are upgraded in place and read by window as before", async () => {
    const stub = runStub(env, "stored-before");
    await runInDurableObject(stub, (_o, state) => {
      const sql = state.storage.sql;
      // The tables as runs stored them, with entries of two streams, the second out of order,
      // from before the storage had migrations.
      // (Tables added by later migrations did not exist then.)
      sql.exec(`DROP TABLE logs; DROP TABLE log_meta; DROP TABLE __drizzle_migrations; DROP TABLE webhook_events;
        CREATE TABLE logs (step TEXT NOT NULL, attempt INTEGER NOT NULL, seq INTEGER NOT NULL,
          stream TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (step, attempt, seq));
        CREATE TABLE log_meta (step TEXT NOT NULL, attempt INTEGER NOT NULL, acked_seq INTEGER NOT NULL,
          bytes INTEGER NOT NULL, dropped_bytes INTEGER NOT NULL, PRIMARY KEY (step, attempt));`);
      const rows: Array<[number, string, string]> = [
        [1, "stdout", "one\ntw"],
        [2, "stderr", "oops\n"],
        [4, "stdout", "four\n"],
        [3, "stdout", "o\nthré\n"],
      ];
      for (const [seq, stream, text] of rows) {
        sql.exec("INSERT INTO logs (step, attempt, seq, stream, text) VALUES ('s', 1, ?, ?, ?)", seq, stream, text);
      }
      sql.exec("INSERT INTO log_meta VALUES ('s', 1, 4, 23, 0)");
    });
    // The object starts again over this storage.
    await evictDurableObject(stub);
    const slices = await runInDurableObject(stub, (_o, state) => {
      const sql = state.storage.sql;
      const key = { step: "s", attempt: 1 };
      return {
        all: readLog(sql, key, "stdout", {}),
        tail: readLog(sql, key, "stdout", { tail: 2 }),
        stderr: readLog(sql, key, "stderr", {}),
        bytes: sql.exec<{ bytes: number }>("SELECT bytes FROM log_meta").one().bytes,
      };
    });
    expect(slices.all).toMatchObject({ content: "one\ntwo\nthré\nfour", totalLines: 4, hasMore: false });
    expect(slices.tail).toMatchObject({ content: "thré\nfour", lineCount: 2, hasMore: true });
    expect(slices.stderr.content).toBe("oops");
    // The cap now counts bytes: "é" is two.
    expect(slices.bytes).toBe(24);
  });
});
