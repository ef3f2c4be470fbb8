// Streams one attempt's output to the server in order. Text waits in a bounded buffer; a batch
// gets its sequence numbers when it is formed and is resent unchanged until acknowledged, so
// appends are idempotent. While the server is unreachable the buffer keeps the newest text up to
// its bound and counts what it dropped; the log then says so.
import type { LogEntry } from "../../src/protocol.ts";
import { LeaseLostError, type RunnerClient } from "./client.ts";

export const FLUSH_INTERVAL_MS = 100;
export const MAX_BATCH_BYTES = 64 * 1024;
export const MAX_BUFFER_BYTES = 8 * 1024 * 1024;

type Stream = LogEntry["stream"];

export class LogShipper {
  private pending: Array<{ stream: Stream; text: string }> = [];
  private pendingBytes = 0;
  private inFlight: LogEntry[] | undefined;
  private nextSeq = 1;
  private ackedSeq = 0;
  private droppedBytes = 0;
  private droppedSinceNotice = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  lost = false;

  constructor(
    private readonly client: RunnerClient,
    private readonly leaseId: string,
    private readonly token: string,
    private readonly bufferBytes = MAX_BUFFER_BYTES,
  ) {}

  get lastSeq(): number {
    return this.nextSeq - 1;
  }
  get dropped(): number {
    return this.droppedBytes;
  }

  push(stream: Stream, text: string): void {
    if (this.lost || text === "") return;
    const last = this.pending[this.pending.length - 1];
    if (last && last.stream === stream) last.text += text;
    else this.pending.push({ stream, text });
    this.pendingBytes += text.length;
    this.trim();
    if (this.pendingBytes >= MAX_BATCH_BYTES) void this.flushOnce();
    else this.timer ??= setTimeout(() => void this.flushOnce(), FLUSH_INTERVAL_MS);
  }

  /** Drops the oldest unsent text beyond the bound, counting it. */
  private trim(): void {
    while (this.pendingBytes > this.bufferBytes && this.pending.length) {
      const first = this.pending[0] as { stream: Stream; text: string };
      const over = this.pendingBytes - this.bufferBytes;
      const cut = Math.min(over, first.text.length);
      first.text = first.text.slice(cut);
      this.pendingBytes -= cut;
      this.droppedBytes += cut;
      this.droppedSinceNotice += cut;
      if (first.text === "") this.pending.shift();
    }
  }

  /** Sends what is buffered (one batch in flight at a time). Network errors leave it buffered. */
  flushOnce(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sending ??= this.send().finally(() => {
      this.sending = undefined;
      // Text that arrived while this batch was on its way goes out with the next tick.
      if ((this.pending.length || this.inFlight) && !this.lost) {
        this.timer ??= setTimeout(() => void this.flushOnce(), FLUSH_INTERVAL_MS);
      }
    });
    return this.sending;
  }

  private async send(): Promise<void> {
    if (this.lost) return;
    if (!this.inFlight) this.inFlight = this.formBatch();
    if (!this.inFlight.length) {
      this.inFlight = undefined;
      return;
    }
    try {
      const res = await this.client.appendLogs(this.leaseId, this.token, this.inFlight);
      this.ackedSeq = Math.max(this.ackedSeq, res.ackedSeq);
      this.inFlight = undefined;
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.lost = true;
        this.pending = [];
        this.inFlight = undefined;
      }
      // Anything else: kept, and sent again by the next flush.
    }
  }

  private formBatch(): LogEntry[] {
    const batch: LogEntry[] = [];
    if (this.droppedSinceNotice > 0) {
      const notice = `[dagflare runner: ${this.droppedSinceNotice} bytes of output were dropped while the server was unreachable]\n`;
      batch.push({ seq: this.nextSeq++, stream: "stderr", text: notice });
      this.droppedSinceNotice = 0;
    }
    let bytes = 0;
    while (this.pending.length && bytes < MAX_BATCH_BYTES) {
      const item = this.pending[0] as { stream: Stream; text: string };
      const take = item.text.slice(0, MAX_BATCH_BYTES - bytes);
      batch.push({ seq: this.nextSeq++, stream: item.stream, text: take });
      bytes += take.length;
      this.pendingBytes -= take.length;
      item.text = item.text.slice(take.length);
      if (item.text === "") this.pending.shift();
    }
    return batch;
  }

  /** Sends everything, retrying with pauses, until all is acknowledged or the lease is lost. */
  async drain(pauseMs: (attempt: number) => number): Promise<void> {
    clearTimeout(this.timer);
    let failures = 0;
    while (!this.lost) {
      await this.flushOnce();
      if (this.lost || (!this.pending.length && !this.inFlight)) return;
      // A batch still in flight after a flush means the server was not reached: pause, retry.
      if (this.inFlight) await new Promise((r) => setTimeout(r, pauseMs(failures++)));
    }
  }
}
