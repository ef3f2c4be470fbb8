// Polling for list pages: often while the list changes, less and less while it does not or while
// the server fails, back to the quick pace as soon as something moves.
import type { Query } from "@tanstack/react-query";

const seen = new WeakMap<object, { data: unknown; quiet: number }>();

/**
 * A `refetchInterval` that doubles from `baseMs` (up to `maxMs`) for each poll that brought the
 * same data (TanStack Query keeps the same reference when nothing changed) or failed.
 */
export function backoff<T>(baseMs = 3_000, maxMs = 60_000) {
  return (query: Query<T, Error, T, any>): number => {
    const prev = seen.get(query);
    const data = query.state.data;
    const quiet = prev && prev.data === data ? prev.quiet + 1 : 0;
    seen.set(query, { data, quiet });
    const steps = Math.min(quiet, 5) + query.state.fetchFailureCount;
    return Math.min(maxMs, baseMs * 2 ** steps);
  };
}
