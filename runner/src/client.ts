// The runner's client: HTTP, or the runner's socket (socket.ts) while it is open, for the
// lease calls; a call the socket cannot carry goes over HTTP. Every reply is zod-parsed. The status decides what happens next:
// 5xx, 408, 429, network errors and timeouts are transient (retried with jittered backoff, or
// handed back to callers that keep their own rhythm); 409 means the lease is no longer ours;
// 401/403 mean the token is wrong; any other 4xx is a bug that retrying would not fix.
import type { z } from "zod";
import {
  type CompleteRequest,
  CompleteResponse,
  ErrorBody,
  HeartbeatResponse,
  type LeaseRequest,
  LeaseResponse,
  LogAppendResponse,
  type LogEntry,
  RUNNER_API_PREFIX,
  type RunnerHeartbeatRequest,
} from "../../src/shared/protocol.ts";
import { type Backoff, backoffMs, DEFAULT_BACKOFF, sleep } from "./retries.ts";
import { RunnerSocket, SocketDownError } from "./socket.ts";

export type Log = (line: string) => void;

/** 409: the lease expired or was superseded; another attempt owns the step. Never retried. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}
/** 401/403: the runner token is wrong; the runner cannot do anything useful. */
export class AuthError extends Error {
  override name = "AuthError";
}
/** Any other 4xx: the request itself is wrong. */
export class RejectedError extends Error {
  override name = "RejectedError";
}
/** The server could not be reached (or answered 5xx) and the call was not to be retried. */
export class UnreachableError extends Error {
  override name = "UnreachableError";
}
/** The caller gave up (its signal aborted) before the server answered. */
export class AbortedError extends Error {
  override name = "AbortedError";
}

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

  constructor(private readonly opts: ClientOptions) {
    this.baseUrl = opts.server.replace(/\/+$/, "") + RUNNER_API_PREFIX;
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
      onOrphanLeases: (body) => {
        for (const lease of LeaseResponse.safeParse(body).data?.leases ?? []) {
          void this.release(lease.leaseId, lease.token, "runner draining", AbortSignal.timeout(10_000)).catch(() => {});
        }
      },
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

  complete(leaseId: string, req: CompleteRequest, signal?: AbortSignal) {
    return this.call(this.leasePath(leaseId, "complete"), req, CompleteResponse, { retry: true, signal });
  }

  async release(leaseId: string, token: string, reason: string, signal?: AbortSignal): Promise<void> {
    await this.call(this.leasePath(leaseId, "release"), { token, reason }, undefined, { retry: true, signal });
  }

  /** The runner's own heartbeat, for the fleet view: one try, the next report comes soon anyway. */
  async reportRunner(req: RunnerHeartbeatRequest, timeoutMs: number): Promise<void> {
    await this.call("/heartbeat", req, undefined, { retry: false, timeoutMs });
  }

  private leasePath(leaseId: string, action: string): string {
    return `/leases/${encodeURIComponent(leaseId)}/${action}`;
  }

  private async call<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S | undefined,
    opts: CallOptions,
  ): Promise<z.infer<S>> {
    for (let failures = 1; ; failures++) {
      if (opts.signal?.aborted) throw new AbortedError(`${path}: gave up`);
      const transient = await this.attempt(path, body, schema, opts);
      if (!(transient instanceof UnreachableError)) return transient;
      if (this.unreachableSince === undefined) {
        this.unreachableSince = Date.now();
        this.opts.log(`server unreachable (${transient.message}); retrying with backoff`);
      }
      if (!opts.retry) throw transient;
      await sleep(backoffMs(failures, this.opts.backoff ?? DEFAULT_BACKOFF), opts.signal);
    }
  }

  /** One request. Returns the parsed reply, or an UnreachableError for a transient failure. */
  private async attempt<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S | undefined,
    opts: CallOptions,
  ): Promise<z.infer<S> | UnreachableError> {
    let res: { status: number; ok: boolean };
    let text: string;
    const viaSocket = this.socket?.isOpen && path.startsWith("/lease") ? this.socket : undefined;
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
      text = overSocket.text;
    } else {
      const http = await this.overHttp(path, body, opts);
      if (http instanceof UnreachableError) return http;
      ({ res, text } = http);
    }
    return this.handle(path, res, text, schema);
  }

  private async overHttp(
    path: string,
    body: unknown,
    opts: CallOptions,
  ): Promise<{ res: Response; text: string } | UnreachableError> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.baseUrl + path, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "dagflare-runner",
          ...(this.opts.token !== "" && { authorization: `Bearer ${this.opts.token}` }),
        },
        body: JSON.stringify(body),
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw new AbortedError(`${path}: gave up`);
      return new UnreachableError(timeout.aborted ? "timed out" : describeNetworkError(err));
    }
    return { res, text };
  }

  /** The status decides; a 2xx body is parsed with the call's schema. */
  private handle<S extends z.ZodType>(
    path: string,
    res: { status: number; ok: boolean },
    text: string,
    schema: S | undefined,
  ): z.infer<S> | UnreachableError {
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      return new UnreachableError(`HTTP ${res.status}`);
    }
    if (!res.ok) throw errorFor(res.status, path, text);
    if (this.unreachableSince !== undefined) {
      this.opts.log(`server reachable again after ${Math.round((Date.now() - this.unreachableSince) / 1000)} s`);
      this.unreachableSince = undefined;
    }
    if (!schema) return undefined as z.infer<S>;
    // A 2xx that is not the protocol (a proxy's page, a half-deployed server) is treated like
    // an outage: every call is idempotent or expires harmlessly, so retrying is safe.
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return new UnreachableError(`HTTP ${res.status} with a body that is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) return new UnreachableError(`HTTP ${res.status} with an unexpected reply to ${path}`);
    return parsed.data;
  }
}

function errorFor(status: number, path: string, text: string): Error {
  let detail = `HTTP ${status}`;
  try {
    const body = ErrorBody.safeParse(JSON.parse(text));
    if (body.success) detail = `${status} ${body.data.code}: ${body.data.message}`;
  } catch {
    // Not JSON: the status alone says enough.
  }
  if (status === 409) return new LeaseLostError(detail);
  if (status === 401 || status === 403) return new AuthError(detail);
  return new RejectedError(`${path}: ${detail}`);
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
