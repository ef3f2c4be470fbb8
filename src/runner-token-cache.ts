// Created runner tokens, verified once per window per isolate. Reading the token's D1 row on
// every runner call cost a third of a chain's throughput; a valid token is now remembered for
// RUNNER_TOKEN_CACHE_MS. A revocation takes effect at once in the isolate that served it (it
// forgets the token) and within RUNNER_TOKEN_CACHE_MS everywhere else, the bound the README's
// limits table states. Only valid tokens are remembered: an unknown, forged or revoked one is read
// every time (it is refused, and its runner stops), and a flood of them cannot push out good ones
// for long (the map is bounded, oldest first out).
import { sha256 } from "./access/digest";
import { checkRunnerToken, type TokenCheck } from "./runner-tokens";

/** How long a verified runner token is trusted without reading D1 again; a revoked one stops within it. */
export const RUNNER_TOKEN_CACHE_MS = 5_000;
/** Tokens remembered by one isolate. */
const MAX_CACHED = 1_000;

interface Entry {
  tokenId: string;
  pools: string[];
  /** Epoch ms after which the token is read again. */
  until: number;
}

/** By the token's SHA-256, so that the secrets themselves are not kept. */
const cache = new Map<string, Entry>();

/** Checks a created runner token: from this isolate's memory within its window, else from D1. */
export async function verifyRunnerToken(d1: D1Database, token: string, now = Date.now()): Promise<TokenCheck> {
  const key = await sha256(token);
  const hit = cache.get(key);
  if (hit && hit.until > now) return { kind: "valid", id: hit.tokenId, pools: hit.pools };
  cache.delete(key);
  const check = await checkRunnerToken(d1, token);
  if (check.kind === "valid") {
    cache.set(key, { tokenId: check.id, pools: check.pools, until: now + RUNNER_TOKEN_CACHE_MS });
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value as string);
  }
  return check;
}

/** Forgets a token in this isolate (it was just revoked here). */
export function forgetRunnerToken(tokenId: string): void {
  for (const [key, e] of cache) if (e.tokenId === tokenId) cache.delete(key);
}
