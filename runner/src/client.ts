// The runner's HTTP client: every call retried with jittered backoff while the server is
// unreachable or answers 5xx; a 409 means the lease is gone, a 401/403 that the token is wrong.
import type { z } from "zod";
import type { CompleteRequest, LeaseRequest, LogEntry } from "../../src/protocol.ts";
import {
  CompleteResponse,
  ErrorBody,
  HeartbeatResponse,
  LeaseResponse,
  LogAppendResponse,
  RUNNER_API_PREFIX,
} from "../../src/protocol.ts";

export class LeaseLostError extends Error {}
export class AuthError extends Error {}
/** A 4xx other than 401/403/409: the request itself is wrong; retrying would not help. */
export class RejectedError extends Error {}

export interface Backoff {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 200, maxMs: 10_000 };

export function backoffMs(attempt: number, b: Backoff = DEFAULT_BACKOFF): number {
  const base = Math.min(b.maxMs, b.firstMs * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

export interface ClientOptions {
  server: string;
  token?: string;
  backoff?: Backoff;
  log: (line: string) => void;
}

export class RunnerClient {
  private readonly base: string;
  /** True while calls are failing: the first success after it is logged. */
  private disconnected = false;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.server.replace(/\/+$/, "") + RUNNER_API_PREFIX;
  }

  lease(req: LeaseRequest, signal?: AbortSignal) {
    return this.call("/lease", req, LeaseResponse, { signal, timeoutMs: (req.waitMs ?? 25_000) + 15_000 });
  }

  heartbeat(leaseId: string, token: string) {
    return this.call(`/leases/${leaseId}/heartbeat`, { token }, HeartbeatResponse, { once: true });
  }

  appendLogs(leaseId: string, token: string, entries: LogEntry[]) {
    return this.call(`/leases/${leaseId}/logs`, { token, entries }, LogAppendResponse, { once: true });
  }

  complete(leaseId: string, req: CompleteRequest, signal?: AbortSignal) {
    return this.call(`/leases/${leaseId}/complete`, req, CompleteResponse, { signal });
  }

  release(leaseId: string, token: string, reason: string) {
    return this.call(`/leases/${leaseId}/release`, { token, reason }, null, { once: true });
  }

  /**
   * POSTs until the server answers. `once`: a single try (the caller has its own loop, e.g.
   * heartbeats and log flushes, and must not be blocked behind a long retry).
   */
  private async call<S extends z.ZodType | null>(
    path: string,
    body: unknown,
    schema: S,
    opts: { signal?: AbortSignal; once?: boolean; timeoutMs?: number } = {},
  ): Promise<S extends z.ZodType ? z.infer<S> : unknown> {
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let failure: string;
      try {
        res = await fetch(this.base + path, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(this.opts.token && { authorization: `Bearer ${this.opts.token}` }),
          },
          body: JSON.stringify(body),
          signal: opts.signal
            ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? 30_000)])
            : AbortSignal.timeout(opts.timeoutMs ?? 30_000),
        });
        failure = `HTTP ${res.status}`;
      } catch (err) {
        failure = (err as Error).message;
      }
      if (res && res.status < 500) {
        const text = await res.text();
        const json: unknown = text ? JSON.parse(text) : {};
        if (res.ok) {
          if (this.disconnected) this.opts.log("server reachable again");
          this.disconnected = false;
          return (schema ? schema.parse(json) : json) as never;
        }
        const err = ErrorBody.safeParse(json);
        const message = err.success ? `${err.data.code}: ${err.data.message}` : `HTTP ${res.status}`;
        if (res.status === 409) throw new LeaseLostError(message);
        if (res.status === 401 || res.status === 403) throw new AuthError(message);
        throw new RejectedError(`${path}: ${message}`);
      }
      if (!this.disconnected) this.opts.log(`server unreachable (${failure}); retrying`);
      this.disconnected = true;
      if (opts.once) throw new Error(failure);
      if (opts.signal?.aborted) throw new Error("aborted");
      await sleep(backoffMs(attempt, this.opts.backoff), opts.signal);
      if (opts.signal?.aborted) throw new Error("aborted");
    }
  }
}
