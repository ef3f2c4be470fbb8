// The runner's client: HTTP (http-post.ts), or the runner's socket (socket.ts) while it is open,
// for the lease calls; a call the socket cannot carry goes over HTTP. Every reply is zod-parsed. The status decides what happens next:
// 5xx, 408, 429, network errors and timeouts are transient (retried with jittered backoff, or
// handed back to callers that keep their own rhythm); 409 means the lease is no longer ours;
// 401/403 mean the token is wrong; any other 4xx is a bug that retrying would not fix.
import type * as z from "zod/mini";
import {
  CompleteResponse,
  CompletionsResponse,
  HeartbeatResponse,
  type Lease,
  type LeaseRequest,
  LeaseResponse,
  LogAppendResponse,
  type LogEntry,
  RUNNER_API_PREFIX,
  type RunnerHeartbeatRequest,
} from "../../src/shared/protocol.ts";
import { AbortedError, AuthError, LeaseLostError, RejectedError, UnreachableError } from "./client-errors.ts";
import { CompletionBatcher } from "./completion-batcher.ts";
import { type HttpReply, postJson } from "./http-post.ts";
import type { CompleteWithLogs, OfferedSend } from "./offered-send.ts";
import { type Backoff, backoffMs, DEFAULT_BACKOFF, sleep } from "./retries.ts";
import { RunnerSocket, SocketDownError } from "./socket.ts";

export type Log = (line: string) => void;

export { AbortedError, AuthError, LeaseLostError, RejectedError, UnreachableError };

export interface ClientOptions {
  server: string;
  /** Empty: no Authorization header (an open local server). */
  token: string;
  log: Log;
  backoff?: Backoff;
}

interface CallOptions {
  /** Retry transient failures until success or `signal`; otherwise throw UnreachableError. */
  retry: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** How long past its waitMs a long poll may take before it counts as hung. */
const LONG_POLL_SLACK_MS = 15_000;

export class RunnerClient {
  private readonly baseUrl: string;
  /** Set while calls fail, so that an outage is logged once and the recovery once. */
  private unreachableSince: number | undefined;
  private socket: RunnerSocket | undefined;
  /** Completions that end together leave together (completion-batcher.ts). */
  private readonly completions: CompletionBatcher;

  constructor(private readonly opts: ClientOptions) {
    this.baseUrl = opts.server.replace(/\/+$/, "") + RUNNER_API_PREFIX;
    this.completions = new CompletionBatcher({
      completeOne: (leaseId, req) =>
        this.tryOnce(this.leasePath(leaseId, "complete"), req, CompleteResponse, { retry: false }),
      completeMany: (req) => this.tryOnce("/completions", req, CompletionsResponse, { retry: false }),
      orphanLeases: (leases) => this.giveBackOrphans(leases),
      log: opts.log,
      backoff: opts.backoff,
    });
  }

  /**
   * Opens the runner's socket: from now on lease calls travel over it while it is open.
   * Resolves once it is open, or its first attempt failed.
   * `onUnauthorized`: the server closed it because the token was revoked.
   */
  openSocket(
    runner: { runnerId: string; labels: Record<string, string> },
    onUnauthorized: (err: AuthError) => void,
  ): Promise<void> {
    this.socket = new RunnerSocket({
      server: this.opts.server,
      token: this.opts.token,
      ...runner,
      log: this.opts.log,
      backoff: this.opts.backoff,
      onUnauthorized: (why) => onUnauthorized(new AuthError(why)),
      // A lease request withdrawn while its answer was on the way: the leases go back.
      onOrphanLeases: (body) => this.giveBackOrphans(LeaseResponse.safeParse(body).data?.leases ?? []),
    });
    return this.socket.start();
  }

  closeSocket(): void {
    this.socket?.stop();
  }

  lease(req: LeaseRequest, signal?: AbortSignal) {
    const timeoutMs = (req.waitMs ?? 25_000) + LONG_POLL_SLACK_MS;
    return this.call("/lease", req, LeaseResponse, { retry: true, signal, timeoutMs });
  }

  heartbeat(leaseId: string, token: string, timeoutMs?: number) {
    return this.call(this.leasePath(leaseId, "heartbeat"), { token }, HeartbeatResponse, { retry: false, timeoutMs });
  }

  appendLogs(leaseId: string, token: string, entries: LogEntry[]) {
    return this.call(this.leasePath(leaseId, "logs"), { token, entries }, LogAppendResponse, { retry: false });
  }

  /**
   * Retried until answered; completions that end together go in one call. `prefer`: the lease
   * id this completion's `next` should hold when the server grants it (its offered successor).
   * `offered`: a step run under an offer, not leased yet (completion-batcher.ts).
   */
  complete(leaseId: string, req: CompleteWithLogs, signal?: AbortSignal, prefer?: string, offered?: OfferedSend) {
    return this.completions.complete(leaseId, req, signal, prefer, offered);
  }

  async release(leaseId: string, token: string, reason: string, signal?: AbortSignal): Promise<void> {
    await this.call(this.leasePath(leaseId, "release"), { token, reason }, undefined, { retry: true, signal });
  }

  /** The runner's own heartbeat, for the fleet view: one try, the next report comes soon anyway. */
  async reportRunner(req: RunnerHeartbeatRequest, timeoutMs: number): Promise<void> {
    await this.call("/heartbeat", req, undefined, { retry: false, timeoutMs });
  }

  /** Leases granted to an ask that was given up meanwhile: the server can dispatch them again at once. */
  private giveBackOrphans(leases: Lease[]): void {
    for (const lease of leases) {
      void this.release(lease.leaseId, lease.token, "runner draining", AbortSignal.timeout(10_000)).catch(() => {});
    }
  }

  private leasePath(leaseId: string, action: string): string {
    return `/leases/${encodeURIComponent(leaseId)}/${action}`;
  }

  private async call<S extends z.ZodMiniType>(
    path: string,
    body: unknown,
    schema: S | undefined,
    opts: CallOptions,
  ): Promise<z.infer<S>> {
    for (let failures = 1; ; failures++) {
      if (opts.signal?.aborted) throw new AbortedError(`${path}: gave up`);
      const transient = await this.tryOnce(path, body, schema, opts);
      if (!(transient instanceof UnreachableError)) return transient;
      if (!opts.retry) throw transient;
      await sleep(backoffMs(failures, this.opts.backoff ?? DEFAULT_BACKOFF), opts.signal);
    }
  }

  /** One try; a transient failure is returned (and an outage logged once), not retried. */
  private async tryOnce<S extends z.ZodMiniType>(
    path: string,
    body: unknown,
    schema: S | undefined,
    opts: CallOptions,
  ): Promise<z.infer<S> | UnreachableError> {
    const result = await this.attempt(path, body, schema, opts);
    if (result instanceof UnreachableError && this.unreachableSince === undefined) {
      this.unreachableSince = Date.now();
      this.opts.log(`server unreachable (${result.message}); retrying with backoff`);
    }
    return result;
  }

  /** One request. Returns the parsed reply, or an UnreachableError for a transient failure. */
  private async attempt<S extends z.ZodMiniType>(
    path: string,
    body: unknown,
    schema: S | undefined,
    opts: CallOptions,
  ): Promise<z.infer<S> | UnreachableError> {
    let res: { status: number; ok: boolean };
    let reply: Reply;
    const viaSocket =
      this.socket?.isOpen && (path.startsWith("/lease") || path === "/completions") ? this.socket : undefined;
    const overSocket = await viaSocket
      ?.call(path, body, opts.signal, path === "/lease" ? undefined : (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS))
      .catch((err: unknown) => {
        if (opts.signal?.aborted) throw new AbortedError(`${path}: gave up`);
        // The socket dropped (or never answered): this call goes over HTTP now.
        if (err instanceof SocketDownError) return undefined;
        throw err;
      });
    if (overSocket) {
      res = { status: overSocket.status, ok: overSocket.status >= 200 && overSocket.status < 300 };
      // Parsed once, when the message arrived; not written out and parsed again.
      reply = { json: overSocket.body };
    } else {
      const http = await this.overHttp(path, body, opts);
      if (http instanceof UnreachableError) return http;
      res = http.res;
      reply = { text: http.text };
    }
    return this.handle(path, res, reply, schema);
  }

  private async overHttp(
    path: string,
    body: unknown,
    opts: CallOptions,
  ): Promise<{ res: { status: number; ok: boolean }; text: string } | UnreachableError> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let reply: HttpReply;
    try {
      reply = await postJson(
        this.baseUrl + path,
        {
          "user-agent": "dagflare-runner",
          ...(this.opts.token !== "" && { authorization: `Bearer ${this.opts.token}` }),
        },
        JSON.stringify(body),
        opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      );
    } catch (err) {
      if (opts.signal?.aborted) throw new AbortedError(`${path}: gave up`);
      return new UnreachableError(timeout.aborted ? "timed out" : describeNetworkError(err));
    }
    return { res: { status: reply.status, ok: reply.status >= 200 && reply.status < 300 }, text: reply.text };
  }

  /** The status decides; a 2xx body is parsed with the call's schema. */
  private handle<S extends z.ZodMiniType>(
    path: string,
    res: { status: number; ok: boolean },
    reply: Reply,
    schema: S | undefined,
  ): z.infer<S> | UnreachableError {
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      return new UnreachableError(`HTTP ${res.status}`);
    }
    if (!res.ok)
      throw RejectedError.forStatus(res.status, path, "text" in reply ? reply.text : JSON.stringify(reply.json));
    if (this.unreachableSince !== undefined) {
      this.opts.log(`server reachable again after ${Math.round((Date.now() - this.unreachableSince) / 1000)} s`);
      this.unreachableSince = undefined;
    }
    if (!schema) return undefined as z.infer<S>;
    // A 2xx that is not the protocol (a proxy's page, a half-deployed server) is treated like
    // an outage: every call is idempotent or expires harmlessly, so retrying is safe.
    let json: unknown;
    try {
      json = "text" in reply ? JSON.parse(reply.text) : reply.json;
    } catch {
      return new UnreachableError(`HTTP ${res.status} with a body that is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) return new UnreachableError(`HTTP ${res.status} with an unexpected reply to ${path}`);
    return parsed.data;
  }
}

/** A reply's body: as the HTTP response's text, or already parsed (a socket message). */
type Reply = { text: string } | { json: unknown };

/** The system's error code (ECONNREFUSED, ENOTFOUND, ...) when there is one: what an operator searches for. */
function describeNetworkError(err: unknown): string {
  return (err as { code?: string }).code ?? (err as Error).message;
}
