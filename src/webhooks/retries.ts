// When a failed delivery is tried again: exponential backoff with full jitter over the upper
// half, so that many deliveries failing together do not return together.
import { MAX_ATTEMPTS, MAX_DELIVERY_AGE_MS, MAX_RETRY_DELAY_MS } from "./limits";

/** The delay after failed attempt `attempt` (from 1): base, 2 x base, 4 x base, ... jittered. */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random()): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** When to try again after failed attempt `attempt`, or undefined when the delivery is given up. */
export function nextAttemptAt(
  attempt: number,
  createdAt: number,
  now: number,
  baseMs: number,
  random = Math.random(),
): number | undefined {
  if (attempt >= MAX_ATTEMPTS) return undefined;
  const at = now + retryDelayMs(attempt, baseMs, random);
  return at - createdAt > MAX_DELIVERY_AGE_MS ? undefined : at;
}
