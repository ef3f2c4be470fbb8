// Coalesces the runner's completions: one that becomes ready while a completion call is in
// flight (or in the same event-loop turn as another) waits for that call and then leaves with
// the others in one `POST /completions`, over the socket or HTTP. A completion with nothing else
// pending leaves at once as its own `complete` call, so a chain pays no added latency. A chain's
// step run ahead under an offer (early-start.ts) leaves without a token right after its
// predecessor's completion in one call (`offered`), or, once a reply leased it, as any other. Every
// fault rule of a single completion holds per lease: a transient failure (for the call or for
// one lease) is sent again after a backoff, a refusal ends only its own lease, and a server
// without `/completions` (404) gets one call per completion from then on. One that brings log
// entries (`logs`) goes in a `/completions` call even alone: a lease's own `complete` takes none.
// docs/runner-protocol.md#several-completions-in-one-call.

import {
  type CompleteRequest,
  type CompleteResponse,
  type Completion,
  type CompletionsRequest,
  type CompletionsResponse,
  type Lease,
  MAX_LEASES_PER_REQUEST,
} from "../../src/shared/protocol.ts";
import { AbortedError, AuthError, RejectedError, UnreachableError } from "./client-errors.ts";
import type { CompleteWithLogs, CompletionAnswer, OfferedSend } from "./offered-send.ts";
import { type Backoff, backoffMs, DEFAULT_BACKOFF } from "./retries.ts";
import { trace } from "./trace.ts";

/** A batch stays well under the server's 2 MiB body limit (one output alone may be 64 KiB). */
const MAX_BATCH_BYTES = 1024 * 1024;

/** The calls the batcher makes; each answers, or returns an UnreachableError, or throws a refusal. */
export interface CompletionTransport {
  completeOne(leaseId: string, req: CompleteRequest): Promise<CompleteResponse | UnreachableError>;
  completeMany(req: CompletionsRequest): Promise<CompletionsResponse | UnreachableError>;
  /** Leases granted for a `next` ask whose completion was given up meanwhile: hand them back. */
  orphanLeases(leases: Lease[]): void;
  log(line: string): void;
  backoff?: Backoff;
}

interface Item {
  leaseId: string;
  req: CompleteWithLogs;
  /** The lease its `next` should hold if granted: the successor it offered, maybe started early. */
  prefer?: string;
  /** Run under an offer and not granted yet: it goes only right after its predecessor. */
  offered?: OfferedSend;
  /** Its size as JSON, measured only when it might share a call (a chain's completion goes alone). */
  bytes?: number;
  /** Transient failures so far: the backoff before this one is sent again. */
  failures: number;
  /** Not sent again before this time (epoch ms). */
  notBefore: number;
  settled: boolean;
  resolve: (res: CompletionAnswer) => void;
  reject: (err: Error) => void;
}

export class CompletionBatcher {
  private queue: Item[] = [];
  private busy = false;
  private scheduled = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The server answered `/completions` 404: it predates the call. */
  private oneByOne = false;

  constructor(private readonly transport: CompletionTransport) {}

  /** Reports one lease's completion; settles as its own `complete` call would. */
  complete(
    leaseId: string,
    req: CompleteWithLogs,
    signal?: AbortSignal,
    prefer?: string,
    offered?: OfferedSend,
  ): Promise<CompletionAnswer> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError(`${leaseId}: completion given up`));
      // Granted meanwhile: it may then leave in any call, with its token.
      offered?.onToken(() => this.kick());
      const item: Item = {
        leaseId,
        req,
        prefer,
        offered,
        failures: 0,
        notBefore: 0,
        settled: false,
        resolve: (res) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(res);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      // Given up (forced shutdown): settled now; a call already carrying it is not waited for.
      const onAbort = () => {
        this.queue = this.queue.filter((i) => i !== item);
        // Nothing left to send again: no timer keeps a stopping runner alive.
        if (this.queue.length === 0) clearTimeout(this.retryTimer);
        settle(item, new AbortedError(`${leaseId}: completion given up`));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(item);
      this.kick();
    });
  }

  /** Sends what is due once the current turn ends, unless a call is in flight (it sends after). */
  private kick(): void {
    // An offered completion waiting for its lease leaves with its predecessor, or once granted.
    const ready = this.queue.filter((i) => !waiting(i));
    if (this.busy || this.scheduled || ready.length === 0) return;
    const now = Date.now();
    const due = Math.min(...ready.map((i) => i.notBefore));
    clearTimeout(this.retryTimer);
    if (due > now) {
      this.retryTimer = setTimeout(() => this.kick(), due - now);
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.busy) return;
    const batch = this.take(Date.now());
    if (batch.length === 0) return this.kick();
    this.busy = true;
    if (trace) for (const item of batch) trace("sent", { lease: item.leaseId });
    try {
      const alone = batch.length === 1 && !batch[0]?.req.logs?.length;
      if (alone || this.oneByOne) await Promise.all(batch.map((item) => this.sendOne(item)));
      else await this.sendMany(batch);
    } catch (err) {
      // Not expected (every failure is settled per item), but a stuck item must not stay pending.
      for (const item of batch) settle(item, err as Error);
    } finally {
      this.busy = false;
      this.kick();
    }
  }

  /**
   * The due items, oldest first, up to the call's limits; the rest wait for the next call. A
   * completion run under an offer and not granted yet goes only right behind its predecessor's.
   */
  private take(now: number): Item[] {
    const batch: Item[] = [];
    let bytes = 0;
    for (const item of this.queue) {
      if (item.notBefore > now || batch.length === MAX_LEASES_PER_REQUEST) continue;
      if (waiting(item) && (this.oneByOne || batch.at(-1)?.leaseId !== item.offered?.after)) continue;
      if (batch.length > 0) {
        if (batch.length === 1) bytes = sizeOf(batch[0] as Item);
        if (bytes + sizeOf(item) > MAX_BATCH_BYTES) continue;
        bytes += sizeOf(item);
      }
      batch.push(item);
    }
    this.queue = this.queue.filter((i) => !batch.includes(i));
    return batch;
  }

  private async sendOne(item: Item): Promise<void> {
    // Never alone without a token: it waits for a reply to grant its lease.
    if (waiting(item)) return void this.queue.push(item);
    const token = item.offered?.token();
    const req = this.withoutLogs(item);
    try {
      const res = await this.transport.completeOne(item.leaseId, token === undefined ? req : { ...req, token });
      if (res instanceof UnreachableError) return this.retryLater([item]);
      settle(item, res);
    } catch (err) {
      settle(item, err as Error);
    }
  }

  private async sendMany(batch: Item[]): Promise<void> {
    const asks = batch.map((i) => i.req.next);
    const first = asks.find((a) => a !== undefined);
    // A step run ahead took its predecessor's slot: only its further free slots are asked for.
    const max = batch.reduce((sum, i) => sum + Math.max(0, (i.req.next?.max ?? 0) - (waiting(i) ? 1 : 0)), 0);
    const req: CompletionsRequest = {
      completions: batch.map(({ leaseId, offered, req: { next: _, ...rest } }): Completion => {
        const token = offered?.token();
        if (!offered || token !== undefined) return { leaseId, ...rest, ...(token !== undefined && { token }) };
        offered.sent();
        return { leaseId, ...rest, token: "", offered: { attempt: offered.attempt } };
      }),
      ...(first && { next: { ...first, max: Math.max(1, Math.min(max, MAX_LEASES_PER_REQUEST)) } }),
    };
    let res: CompletionsResponse | UnreachableError;
    try {
      res = await this.transport.completeMany(req);
    } catch (err) {
      if (err instanceof AuthError) {
        for (const item of batch) settle(item, err);
        return;
      }
      if (!(err instanceof RejectedError)) throw err;
      // Refused whole: each completion is sent on its own and gets its own answer.
      if (err.status === 404 && !this.oneByOne) {
        this.oneByOne = true;
        this.transport.log("the server has no /completions; reporting completions one by one");
      }
      await Promise.all(batch.map((item) => this.sendOne(item)));
      return;
    }
    if (res instanceof UnreachableError) return this.retryLater(batch);
    // The granted leases go to the completions that asked, each up to its own ask (its slots),
    // a completion's offered successor to that completion first.
    const leases = [...res.next];
    const own = new Map<Item, Lease>();
    for (const item of batch) {
      const at = item.req.next && item.prefer !== undefined ? leases.findIndex((l) => l.leaseId === item.prefer) : -1;
      if (at >= 0) own.set(item, leases.splice(at, 1)[0] as Lease);
    }
    const again: Item[] = [];
    for (const [k, item] of batch.entries()) {
      const result = res.results[k];
      if (!result) {
        again.push(item);
        continue;
      }
      const failure = resultError(result.status, item.leaseId, result.body);
      if (failure instanceof UnreachableError) again.push(item);
      else if (failure) settle(item, failure);
      else {
        const accepted = "accepted" in result.body && result.body.accepted;
        const token = "accepted" in result.body ? result.body.token : undefined;
        const answer = token === undefined ? {} : { token };
        if (item.settled || !item.req.next) settle(item, { accepted, next: [], ...answer });
        else {
          settle(item, { accepted, next: nextOf(item, own.get(item), leases), ...answer });
          own.delete(item);
        }
      }
    }
    this.retryLater(again);
    // An item to be sent again gives up its successor's lease too: its next call asks anew.
    leases.push(...own.values());
    if (leases.length > 0) this.transport.orphanLeases(leases);
  }

  /** A lease's own `complete` takes no log entries: they are dropped, counted and said, once. */
  private withoutLogs(item: Item): CompleteRequest {
    const { logs, ...req } = item.req;
    const bytes = (logs ?? []).reduce((n, e) => n + Buffer.byteLength(e.text), 0);
    if (bytes === 0) return req;
    this.transport.log(`${item.leaseId}: ${bytes} bytes of output could not go with its completion; dropped`);
    item.req = { ...req, droppedLogBytes: (req.droppedLogBytes ?? 0) + bytes };
    return item.req;
  }

  /** Sent again together after one backoff, longer the more often any of them failed. */
  private retryLater(items: Item[]): void {
    const again = items.filter((i) => !i.settled);
    if (again.length === 0) return;
    const failures = Math.max(...again.map((i) => ++i.failures));
    const notBefore = Date.now() + backoffMs(failures, this.transport.backoff ?? DEFAULT_BACKOFF);
    for (const item of again) item.notBefore = notBefore;
    this.queue.push(...again);
  }
}

/** An offered completion whose lease no reply has granted yet. */
function waiting(item: Item): boolean {
  return item.offered !== undefined && item.offered.token() === undefined;
}

/** A completion's share of the granted leases: its own successor's, then up to its ask. */
function nextOf(item: Item, own: Lease | undefined, leases: Lease[]): Lease[] {
  const max = item.req.next?.max ?? 0;
  return own ? [own, ...leases.splice(0, max - 1)] : leases.splice(0, max);
}

/** One result's status as its own call's: undefined for 2xx, else the error its call would raise. */
function resultError(status: number, leaseId: string, body: unknown): Error | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status >= 500 || status === 408 || status === 429) return new UnreachableError(`HTTP ${status}`);
  return RejectedError.forStatus(status, `/leases/${leaseId}/complete`, JSON.stringify(body));
}

function sizeOf(item: Item): number {
  const bytes = item.bytes ?? Buffer.byteLength(JSON.stringify(item.req));
  item.bytes = bytes;
  return bytes;
}

function settle(item: Item, outcome: CompletionAnswer | Error): void {
  if (item.settled) return;
  item.settled = true;
  if (outcome instanceof Error) item.reject(outcome);
  else item.resolve(outcome);
}
