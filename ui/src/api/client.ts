// The one way the UI talks to the server: the public API under /api/v2, with the tab's token.
import { getToken } from "./token";

export const API = "/api/v2";

/** The contract's error body, `{ code, message, details? }`, with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const unauthorized = new Set<() => void>();
/** Subscribes to 401 answers (a missing, wrong or revoked token). */
export function onUnauthorized(fn: () => void): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function apiUrl(path: string, query?: Query): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
  }
  const s = qs.toString();
  return `${API}${path}${s ? `?${s}` : ""}`;
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function request<T>(method: string, path: string, opts: { query?: Query; body?: unknown; text?: boolean }) {
  const res = await fetch(apiUrl(path, opts.query), {
    method,
    headers: {
      ...authHeaders(),
      ...(opts.body !== undefined && { "content-type": "application/json" }),
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const raw = await res.text();
  if (!res.ok) {
    let code = "internal_error";
    let message = `${method} ${path} answered ${res.status}`;
    let details: unknown;
    try {
      const err = JSON.parse(raw) as { code?: string; message?: string; details?: unknown };
      code = err.code ?? code;
      message = err.message ?? message;
      details = err.details;
    } catch {
      // not JSON: keep the generic message
    }
    if (res.status === 401) for (const fn of unauthorized) fn();
    throw new ApiError(res.status, code, message, details);
  }
  if (opts.text) return raw as T;
  return (raw ? JSON.parse(raw) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>("GET", path, { query }),
  text: (path: string, query?: Query) => request<string>("GET", path, { query, text: true }),
  post: <T>(path: string, body?: unknown, query?: Query) => request<T>("POST", path, { body: body ?? {}, query }),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, { body: body ?? {} }),
  patch: <T>(path: string, body?: unknown) => request<T>("PATCH", path, { body: body ?? {} }),
  delete: <T>(path: string) => request<T>("DELETE", path, {}),
};

/** A path segment: DAG names are plain, step names can hold anything. */
export const seg = (s: string) => encodeURIComponent(s);
