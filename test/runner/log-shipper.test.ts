import { describe, expect, it } from "vitest";
import { AuthError, LeaseLostError, UnreachableError } from "../../runner/src/client.ts";
import { LogShipper, MAX_BATCH_BYTES } from "../../runner/src/log-shipper.ts";
import type { LogEntry } from "../../src/protocol";

/** A client whose log appends succeed, fail as unreachable, or answer with an error, on demand. */
function fakeClient() {
  const state = {
    down: false,
    error: undefined as Error | undefined,
    batches: [] as LogEntry[][],
    stored: new Map<number, LogEntry>(),
  };
  const client = {
    appendLogs: async (_leaseId: string, _token: string, entries: LogEntry[]) => {
      state.batches.push(entries);
      if (state.error) throw state.error;
      if (state.down) throw new UnreachableError("HTTP 503");
      for (const e of entries) if (!state.stored.has(e.seq)) state.stored.set(e.seq, e);
      return { ackedSeq: Math.max(0, ...state.stored.keys()) };
    },
  };
  const text = (stream?: LogEntry["stream"]) =>
    [...state.stored.values()]
      .sort((a, b) => a.seq - b.seq)
      .filter((e) => !stream || e.stream === stream)
      .map((e) => e.text)
      .join("");
  return { state, client, text };
}

function shipper(client: ReturnType<typeof fakeClient>["client"], over: { bufferBytes?: number } = {}) {
  const fatal: Error[] = [];
  const s = new LogShipper({
    client,
    leaseId: "run.0.1",
    token: "t",
    log: () => {},
    onFatal: (err) => fatal.push(err),
    backoff: { firstMs: 5, maxMs: 20 },
    ...over,
  });
  return { s, fatal };
}

describe("the log shipper", () => {
  it("sends everything in order with seqs 1, 2, 3, ... once drained", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    s.push("stdout", "a");
    s.push("stderr", "b");
    s.push("stdout", "c");
    await s.drain();
    expect([...f.state.stored.values()].map((e) => [e.seq, e.stream, e.text])).toEqual([
      [1, "stdout", "a"],
      [2, "stderr", "b"],
      [3, "stdout", "c"],
    ]);
    expect(s.lastSeq).toBe(3);
  });

  it("merges adjacent writes to the same stream into one entry", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    for (let i = 0; i < 50; i++) s.push("stdout", `${i}\n`);
    await s.drain();
    expect(f.state.stored.size).toBe(1);
  });

  it("resends a failed batch unchanged, with the same seqs", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    f.state.down = true;
    s.push("stdout", "x");
    const drained = s.drain();
    await waitFor(() => f.state.batches.length >= 2);
    f.state.down = false;
    await drained;
    expect(new Set(f.state.batches.map((b) => JSON.stringify(b)))).toEqual(
      new Set([JSON.stringify([{ seq: 1, stream: "stdout", text: "x" }])]),
    );
  });

  it("cuts batches at 64 KiB without splitting a character", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    const text = "é".repeat(100_000);
    s.push("stdout", text);
    await s.drain();
    for (const b of f.state.batches) {
      expect(b.reduce((n, e) => n + Buffer.byteLength(e.text), 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
    expect(f.text()).toBe(text);
  });

  it("keeps the newest output within its bound while the server is unreachable and says how much it dropped", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client, { bufferBytes: 1000 });
    f.state.down = true;
    s.push("stdout", "first\n");
    await waitFor(() => f.state.batches.length >= 1);
    const lines = Array.from({ length: 150 }, (_, i) => `${String(i).padStart(9, "0")}\n`);
    for (const line of lines) s.push("stdout", line);
    f.state.down = false;
    await s.drain();
    expect(s.droppedLogBytes).toBe(500);
    const entries = [...f.state.stored.values()].sort((a, b) => a.seq - b.seq);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries[1]).toMatchObject({
      stream: "stderr",
      text: "[dagflare runner: 500 bytes of output were dropped while the server was unreachable]\n",
    });
    expect(f.text("stdout")).toBe(`first\n${lines.slice(50).join("")}`);
  });

  it("stops and reports a 409 as fatal, dropping what is left", async () => {
    const f = fakeClient();
    const { s, fatal } = shipper(f.client);
    f.state.error = new LeaseLostError("409 not_running");
    s.push("stdout", "x");
    await s.drain();
    s.push("stdout", "ignored");
    expect(fatal.map((e) => e.name)).toEqual(["LeaseLostError"]);
    expect(f.state.batches).toHaveLength(1);
  });

  it("stops and reports a refused token as fatal", async () => {
    const f = fakeClient();
    const { s, fatal } = shipper(f.client);
    f.state.error = new AuthError("401");
    s.push("stdout", "x");
    await s.drain();
    expect(fatal.map((e) => e.name)).toEqual(["AuthError"]);
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error("condition not met in time");
}
