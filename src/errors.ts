// One error type for the whole Worker, mapped once to the contract's flat error body.
// Errors cross Durable Object RPC as plain data (class identity does not survive RPC).
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorCode =
  | "forbidden"
  | "bad_request"
  | "not_found"
  | "internal_error"
  | "unauthorized"
  | "bad_gateway"
  | "remote_node_error"
  | "max_run_reached"
  | "not_running"
  | "already_exists";

export interface ErrorData {
  code: ErrorCode;
  status: ContentfulStatusCode;
  message: string;
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: ContentfulStatusCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  toData(): ErrorData {
    return { code: this.code, status: this.status, message: this.message, details: this.details };
  }
  static from(data: ErrorData): AppError {
    return new AppError(data.code, data.status, data.message, data.details);
  }
}

/** What a Durable Object method returns instead of throwing an AppError across RPC. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (
  code: ErrorCode,
  status: ContentfulStatusCode,
  message: string,
  details?: Record<string, unknown>,
): Outcome<never> => ({ ok: false, error: { code, status, message, details } });

/** Unwraps an Outcome from a Durable Object, rethrowing its error on this side. */
export function unwrap<T>(o: Outcome<T>): T {
  if (o.ok) return o.value;
  throw AppError.from(o.error);
}
