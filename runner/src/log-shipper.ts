// Streams one attempt's output to the server, in order. A batch gets its seqs when it is formed
// and is resent unchanged until the server answers, so appends stay idempotent across retries.
// One batch is in flight at a time; text that arrives meanwhile waits in a bounded buffer. When
// the buffer is full the shipper asks its source to pause (the step then blocks on its writes),
// and to resume once half of it was shipped: output goes as fast as the server stores it, and
// nothing is dropped while the server answers. Only once the server has been unreachable for
// `dropAfterMs` does a full buffer keep the newest text and drop the oldest, so that a step is
// not held for a whole outage (its lease may well survive it); the next batch the server takes
// says how much was lost and why. A step run ahead of its lease is held (sends nothing); its
// completion may take what it holds (docs/runner-protocol.md#a-steps-output-with-its-completion).
import type { LogEntry } from "../../src/shared/protocol.ts";
import { AuthError, LeaseLostError, type Log, RejectedError, type RunnerClient } from "./client.ts";
import { type Backoff, backoffMs, DEFAULT_BACKOFF } from "./retries.ts";
import { dropUtf8Prefix, splitUtf8, utf8Bytes } from "./utf8.ts";

export const FLUSH_INTERVAL_MS = 100;
/** Pending text that is sent at once instead of after the flush interval. */
export const SEND_AT_BYTES = 64 * 1024;
/**
 * Largest batch: a quarter of the server's 1 MiB, because JSON may escape a control
 * character into 6 bytes and the request body must stay under the server's limit.
 */
export const MAX_BATCH_BYTES = 256 * 1024;
export const MAX_BUFFER_BYTES = 8 * 1024 * 1024;
/**
 * How long calls must have failed (network errors, 5xx; a slow answer is not a failure) before a
 * full buffer drops output instead of holding the step back.
 */
export const DROP_AFTER_UNREACHABLE_MS = 1_000;

type Stream = LogEntry["stream"];
type DropKind = "unreachable" | "refused";
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
  /** Asks the source to stop (true) or go on (false) producing text: back-pressure. */
  onPressure?: (pause: boolean) => void;
  bufferBytes?: number;
  dropAfterMs?: number;
  backoff?: Backoff;
}

export class LogShipper {
  private pending: Chunk[] = [];
  private pendingBytes = 0;
  private inFlight: LogEntry[] | undefined;
  private nextSeq = 1;
  private droppedBytes = 0;
  /** Bytes dropped and not yet said in the log, by kind, with the first reason of that kind. */
  private unreported = new Map<DropKind, { bytes: number; reason: string }>();
  private failures = 0;
  /** When the current run of failed sends began; undefined while the server answers. */
  private unreachableSince: number | undefined;
  private paused = false;
  /** Lets a paused step go once the server has been unreachable for `dropAfterMs`. */
  private dropTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A backoff pause is not cut short by new text; a batching pause is. */
  private pausedForBackoff = false;
  private sending = false;
  private closing = false;
  private stopped = false;
  /** Nothing is sent while held: the lease has no token yet. */
  private held = false;
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
    this.applyBound();
    this.schedule();
  }

  /** Held (its step runs ahead of its lease), it sends nothing; released, what waited goes out. */
  hold(held: boolean): void {
    this.held = held;
    this.schedule();
  }

  /**
   * Everything held, as entries with their seqs, for the completion: never sent from here.
   * Undefined (nothing taken) when not held or over `bound`; empty when nothing was written.
   */
  takeHeld(bound: { maxBytes: number; maxEntries: number }): LogEntry[] | undefined {
    if (!this.held || this.stopped || this.unreported.size > 0) return undefined;
    if (this.pendingBytes > bound.maxBytes || this.pending.length > bound.maxEntries) return undefined;
    const entries = this.pending.map(({ stream, text }) => ({ seq: this.nextSeq++, stream, text }));
    this.pending = [];
    this.pendingBytes = 0;
    this.setPaused(false);
    this.settle();
    return entries;
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
    clearTimeout(this.dropTimer);
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight = undefined;
    // Whatever is left of the step must not stay blocked on a pipe nobody reads.
    this.setPaused(false);
    this.settle();
  }

  private get bound(): number {
    return this.opts.bufferBytes ?? MAX_BUFFER_BYTES;
  }

  /** A full buffer pauses the source, or, once the server has been gone long enough, drops. */
  private applyBound(): void {
    if (this.pendingBytes < this.bound) return;
    const since = this.unreachableSince;
    const dropAt = since === undefined ? undefined : since + (this.opts.dropAfterMs ?? DROP_AFTER_UNREACHABLE_MS);
    if (dropAt === undefined || Date.now() < dropAt) {
      this.setPaused(true);
      if (dropAt !== undefined) this.dropTimer ??= setTimeout(() => this.recheckBound(), dropAt - Date.now());
      return;
    }
    this.setPaused(false);
    this.dropOldest();
  }

  private recheckBound(): void {
    this.dropTimer = undefined;
    if (!this.stopped) this.applyBound();
  }

  private setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.opts.onPressure?.(paused);
  }

  private dropOldest(): void {
    const bound = this.bound;
    const reason = `the server could not be reached and the runner's log buffer of ${bound} bytes was full`;
    while (this.pendingBytes > bound) {
      const first = this.pending[0];
      if (!first) break;
      const over = this.pendingBytes - bound;
      const rest = first.bytes <= over ? "" : dropUtf8Prefix(first.text, over);
      const dropped = first.bytes - utf8Bytes(rest);
      if (this.unreported.size === 0) {
        this.opts.log(`${this.opts.leaseId}: ${reason}; dropping the oldest output`);
      }
      this.countDropped("unreachable", reason, dropped);
      this.pendingBytes -= dropped;
      if (rest === "") this.pending.shift();
      else {
        first.text = rest;
        first.bytes -= dropped;
      }
    }
  }

  private countDropped(kind: DropKind, reason: string, bytes: number): void {
    this.droppedBytes += bytes;
    const known = this.unreported.get(kind);
    if (known) known.bytes += bytes;
    else this.unreported.set(kind, { bytes, reason });
  }

  private schedule(): void {
    if (this.stopped || this.held || this.sending || this.pausedForBackoff) return;
    if (!this.inFlight && this.pending.length === 0) return;
    if (this.closing || this.inFlight || this.pendingBytes >= SEND_AT_BYTES) {
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
      this.unreachableSince = undefined;
      clearTimeout(this.dropTimer);
      this.dropTimer = undefined;
      // Resume at half, so that the step and the shipper are not switched at every batch.
      if (this.paused && this.pendingBytes <= this.bound / 2) this.setPaused(false);
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
        this.countDropped("refused", `the server refused them (${err.message})`, bytes);
        this.inFlight = undefined;
      } else {
        this.failures++;
        this.unreachableSince ??= Date.now();
        // A step paused for a server that stays away is let go once `dropAfterMs` has passed.
        if (this.paused) this.applyBound();
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
    for (const { reason, bytes } of this.unreported.values()) {
      const text = `[dagflare runner: ${bytes} bytes of output were dropped: ${reason}]\n`;
      batch.push({ seq: this.nextSeq++, stream: "stderr", text });
      room -= utf8Bytes(text);
    }
    this.unreported.clear();
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
