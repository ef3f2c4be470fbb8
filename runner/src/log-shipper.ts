// Streams one attempt's output to the server, in order. A batch gets its seqs when it is formed
// and is resent unchanged until the server answers, so appends stay idempotent across retries.
// One batch is in flight at a time; text that arrives meanwhile waits in a bounded buffer. While
// the server is unreachable the buffer keeps the newest text and counts what it drops; the first
// batch after the outage begins with a line saying how much was lost.
import type { LogEntry } from "../../src/protocol.ts";
import { AuthError, LeaseLostError, type Log, RejectedError, type RunnerClient } from "./client.ts";
import { type Backoff, backoffMs, DEFAULT_BACKOFF } from "./retries.ts";
import { dropUtf8Prefix, splitUtf8, utf8Bytes } from "./utf8.ts";

export const FLUSH_INTERVAL_MS = 100;
export const MAX_BATCH_BYTES = 64 * 1024;
export const MAX_BUFFER_BYTES = 8 * 1024 * 1024;

type Stream = LogEntry["stream"];
interface Chunk {
  stream: Stream;
  text: string;
  bytes: number;
}

export interface LogShipperOptions {
  client: Pick<RunnerClient, "appendLogs">;
  leaseId: string;
  token: string;
  log: Log;
  /** The server said the lease is gone (409) or the token is bad: shipping has stopped. */
  onFatal: (err: LeaseLostError | AuthError) => void;
  bufferBytes?: number;
  backoff?: Backoff;
}

export class LogShipper {
  private pending: Chunk[] = [];
  private pendingBytes = 0;
  private inFlight: LogEntry[] | undefined;
  private nextSeq = 1;
  private droppedBytes = 0;
  private unreportedDroppedBytes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A backoff pause is not cut short by new text; a batching pause is. */
  private pausedForBackoff = false;
  private sending = false;
  private closing = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: LogShipperOptions) {}

  /** The last seq handed out (0 when none): the completion's `lastLogSeq`. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get droppedLogBytes(): number {
    return this.droppedBytes;
  }

  push(stream: Stream, text: string): void {
    if (this.stopped || text === "") return;
    const bytes = utf8Bytes(text);
    const last = this.pending.at(-1);
    if (last && last.stream === stream && last.bytes + bytes <= MAX_BATCH_BYTES) {
      last.text += text;
      last.bytes += bytes;
    } else {
      this.pending.push({ stream, text, bytes });
    }
    this.pendingBytes += bytes;
    this.enforceBound();
    this.schedule();
  }

  /** Sends everything without batching pauses; resolves once all is stored or shipping stopped. */
  drain(): Promise<void> {
    this.closing = true;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.schedule();
    this.settle();
    return idle;
  }

  /** Gives up on whatever is not sent yet (the lease is gone, or the runner is quitting). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight = undefined;
    this.settle();
  }

  private enforceBound(): void {
    const bound = this.opts.bufferBytes ?? MAX_BUFFER_BYTES;
    while (this.pendingBytes > bound) {
      const first = this.pending[0];
      if (!first) break;
      const over = this.pendingBytes - bound;
      const rest = first.bytes <= over ? "" : dropUtf8Prefix(first.text, over);
      const dropped = first.bytes - utf8Bytes(rest);
      if (this.unreportedDroppedBytes === 0) {
        this.opts.log(
          `${this.opts.leaseId}: log buffer full while the server is unreachable; dropping the oldest output`,
        );
      }
      this.droppedBytes += dropped;
      this.unreportedDroppedBytes += dropped;
      this.pendingBytes -= dropped;
      if (rest === "") this.pending.shift();
      else {
        first.text = rest;
        first.bytes -= dropped;
      }
    }
  }

  private schedule(): void {
    if (this.stopped || this.sending || this.pausedForBackoff) return;
    if (!this.inFlight && this.pending.length === 0) return;
    if (this.closing || this.inFlight || this.pendingBytes >= MAX_BATCH_BYTES) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.send();
    } else {
      this.timer ??= setTimeout(() => void this.send(), FLUSH_INTERVAL_MS);
    }
  }

  private async send(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pausedForBackoff = false;
    if (this.stopped || this.sending) return;
    const batch = this.inFlight ?? this.formBatch();
    this.inFlight = batch;
    if (batch.length === 0) {
      this.inFlight = undefined;
      return this.settle();
    }
    this.sending = true;
    try {
      await this.opts.client.appendLogs(this.opts.leaseId, this.opts.token, batch);
      this.inFlight = undefined;
      this.failures = 0;
    } catch (err) {
      if (err instanceof LeaseLostError || err instanceof AuthError) {
        this.stop();
        this.opts.onFatal(err);
        return;
      }
      if (err instanceof RejectedError) {
        // Resending the same batch would be refused again: count it as dropped and move on.
        const bytes = batch.reduce((n, e) => n + utf8Bytes(e.text), 0);
        this.opts.log(`${this.opts.leaseId}: the server refused a log batch (${err.message}); ${bytes} bytes lost`);
        this.droppedBytes += bytes;
        this.inFlight = undefined;
      } else {
        this.failures++;
        this.pausedForBackoff = true;
        this.timer = setTimeout(() => void this.send(), backoffMs(this.failures, this.opts.backoff ?? DEFAULT_BACKOFF));
      }
    } finally {
      this.sending = false;
    }
    this.schedule();
    this.settle();
  }

  private formBatch(): LogEntry[] {
    const batch: LogEntry[] = [];
    let room = MAX_BATCH_BYTES;
    if (this.unreportedDroppedBytes > 0) {
      const text = `[dagflare runner: ${this.unreportedDroppedBytes} bytes of output were dropped while the server was unreachable]\n`;
      batch.push({ seq: this.nextSeq++, stream: "stderr", text });
      room -= utf8Bytes(text);
      this.unreportedDroppedBytes = 0;
    }
    while (room > 0) {
      const chunk = this.pending[0];
      if (!chunk) break;
      if (chunk.bytes <= room) {
        batch.push({ seq: this.nextSeq++, stream: chunk.stream, text: chunk.text });
        room -= chunk.bytes;
        this.pendingBytes -= chunk.bytes;
        this.pending.shift();
        continue;
      }
      const [head, rest] = splitUtf8(chunk.text, room);
      if (head === "") break;
      const headBytes = utf8Bytes(head);
      batch.push({ seq: this.nextSeq++, stream: chunk.stream, text: head });
      chunk.text = rest;
      chunk.bytes -= headBytes;
      this.pendingBytes -= headBytes;
      break;
    }
    return batch;
  }

  private settle(): void {
    if (!this.stopped && (this.inFlight || this.pending.length > 0 || this.sending)) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
