// How the runner's calls fail, by the server's status: 409 the lease is no longer ours, 401/403
// the token is wrong, any other 4xx a request that retrying would not fix; transient failures
// (5xx, 408, 429, network errors, timeouts) are an UnreachableError.
import { ErrorBody } from "../../src/shared/protocol.ts";

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

  constructor(
    message: string,
    /** The HTTP status, when the refusal came from the server. */
    readonly status?: number,
  ) {
    super(message);
  }

  /** The error a refusal with `status` (not 2xx, not transient) raises for the call to `path`. */
  static forStatus(status: number, path: string, text: string): Error {
    let detail = `HTTP ${status}`;
    try {
      const body = ErrorBody.safeParse(JSON.parse(text));
      if (body.success) detail = `${status} ${body.data.code}: ${body.data.message}`;
    } catch {
      // Not JSON: the status alone says enough.
    }
    if (status === 409) return new LeaseLostError(detail);
    if (status === 401 || status === 403) return new AuthError(detail);
    return new RejectedError(`${path}: ${detail}`, status);
  }
}
/** The server could not be reached (or answered 5xx) and the call was not to be retried. */
export class UnreachableError extends Error {
  override name = "UnreachableError";
}
/** The caller gave up (its signal aborted) before the server answered. */
export class AbortedError extends Error {
  override name = "AbortedError";
}
