import { describe, expect, it, vi } from "vitest";
import { AuthError, LeaseLostError, RejectedError, UnreachableError } from "../../runner/src/client.ts";
import { FLUSH_INTERVAL_MS, LogShipper, MAX_BATCH_BYTES } from "../../runner/src/log-shipper.ts";
import type { LogEntry } from "../../src/shared/protocol";

/** A client whose log appends succeed, fail as unreachable, or answer with an error, on demand. */
function fakeClient() {
  const state = {
    down: false,
    error: undefined as Error | undefined,
    /** While set, appends wait for it: a server slower than the step. */
    gate: undefined as Promise<void> | undefined,
    batches: [] as LogEntry[][],
    stored: new Map<number, LogEntry>(),
  };
  const client = {
    appendLogs: async (_leaseId: string, _token: string, entries: LogEntry[]) => {
      state.batches.push(entries);
      await state.gate;
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

function shipper(
  client: ReturnType<typeof fakeClient>["client"],
  over: { bufferBytes?: number; dropAfterMs?: number } = {},
) {
  const fatal: Error[] = [];
  /** Each change of back-pressure: true = pause the step, false = let it go on. */
  const pressure: boolean[] = [];
  const s = new LogShipper({
    client,
    leaseId: "run.0.1",
    token: "t",
    log: () => {},
    onFatal: (err) => fatal.push(err),
    onPressure: (pause) => pressure.push(pause),
    backoff: { firstMs: 5, maxMs: 20 },
    ...over,
  });
  return { s, fatal, pressure };
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

  it("cuts batches at 256 KiB without splitting a character", async () => {
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

  it("pauses the step while its buffer is full and the server answers slowly, and drops nothing", async () => {
    const f = fakeClient();
    const { s, pressure } = shipper(f.client, { bufferBytes: 1000 });
    let open = () => {};
    f.state.gate = new Promise<void>((r) => (open = r));
    s.push("stdout", "first\n");
    await waitFor(() => f.state.batches.length >= 1);
    const lines = Array.from({ length: 150 }, (_, i) => `${String(i).padStart(9, "0")}\n`);
    for (const line of lines) s.push("stdout", line);
    expect(pressure).toEqual([true]);
    f.state.gate = undefined;
    open();
    await s.drain();
    expect(pressure).toEqual([true, false]);
    expect(s.droppedLogBytes).toBe(0);
    expect(f.text("stdout")).toBe(`first\n${lines.join("")}`);
    expect(f.text("stderr")).toBe("");
  });

  it("drops the oldest output only once the server has been unreachable long enough, and says why and how much", async () => {
    const f = fakeClient();
    const { s, pressure } = shipper(f.client, { bufferBytes: 1000, dropAfterMs: 0 });
    f.state.down = true;
    s.push("stdout", "first\n");
    await waitFor(() => f.state.batches.length >= 1);
    const lines = Array.from({ length: 150 }, (_, i) => `${String(i).padStart(9, "0")}\n`);
    for (const line of lines) s.push("stdout", line);
    f.state.down = false;
    await s.drain();
    // The step is never held for an outage: it goes on and the oldest text gives way.
    expect(pressure).toEqual([]);
    expect(s.droppedLogBytes).toBe(500);
    const entries = [...f.state.stored.values()].sort((a, b) => a.seq - b.seq);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries[1]).toMatchObject({ stream: "stderr" });
    expect(entries[1]?.text).toMatch(
      /^\[dagflare runner: 500 bytes of output were dropped: the server could not be reached and the runner's log buffer of 1000 bytes was full\]\n$/,
    );
    expect(f.text("stdout")).toBe(`first\n${lines.slice(50).join("")}`);
  });

  it("says in the log how much a refused batch cost, and why", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    f.state.error = new RejectedError("/leases/x/logs: 413 bad_request: too big");
    s.push("stdout", "lost text\n");
    await waitFor(() => f.state.batches.length >= 1);
    f.state.error = undefined;
    s.push("stdout", "kept\n");
    await s.drain();
    expect(s.droppedLogBytes).toBe(10);
    expect(f.text("stderr")).toBe(
      "[dagflare runner: 10 bytes of output were dropped: the server refused them (/leases/x/logs: 413 bad_request: too big)]\n",
    );
    expect(f.text("stdout")).toBe("kept\n");
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

describe("a held log shipper (a step run ahead of its lease)", () => {
  const bound = { maxBytes: 10, maxEntries: 2 };

  it("sends nothing while held, and hands everything over with seqs to the completion", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    s.hold(true);
    s.push("stdout", "a");
    s.push("stderr", "b");
    expect(s.takeHeld(bound)).toEqual([
      { seq: 1, stream: "stdout", text: "a" },
      { seq: 2, stream: "stderr", text: "b" },
    ]);
    expect(s.lastSeq).toBe(2);
    // Released afterwards (its lease granted), it never sends what it handed over.
    s.hold(false);
    await s.drain();
    expect(f.state.batches).toEqual([]);
  });

  it("keeps output over the bound, and ships it once released", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      s.hold(true);
      s.push("stdout", "0123456789x");
      expect(s.takeHeld(bound)).toBeUndefined();
      // Past the flush interval, held: nothing was sent.
      vi.advanceTimersByTime(FLUSH_INTERVAL_MS * 2);
      expect(f.state.batches).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
    s.hold(false);
    await s.drain();
    expect(f.text()).toBe("0123456789x");
  });

  it("keeps output in more entries than the bound", () => {
    const { s } = shipper(fakeClient().client);
    s.hold(true);
    for (const stream of ["stdout", "stderr", "stdout"] as const) s.push(stream, "a");
    expect(s.takeHeld(bound)).toBeUndefined();
  });

  it("hands nothing over once released: its output is shipped", async () => {
    const f = fakeClient();
    const { s } = shipper(f.client);
    s.hold(true);
    s.push("stdout", "a");
    s.hold(false);
    expect(s.takeHeld(bound)).toBeUndefined();
    await s.drain();
    expect(f.text()).toBe("a");
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error("condition not met in time");
}
