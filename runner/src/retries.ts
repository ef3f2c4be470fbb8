// Jittered exponential backoff, shared by every call that waits out an unreachable server.

export interface Backoff {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 200, maxMs: 10_000 };

/**
 * Pause before retry number `failures` (from 1). "Equal jitter": half fixed, half random, so
 * runners cut off by the same outage do not all come back in the same millisecond.
 */
export function backoffMs(failures: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  const capMs = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.max(0, failures - 1));
  return capMs / 2 + Math.random() * (capMs / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts (callers check the signal themselves). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
