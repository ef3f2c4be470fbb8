// Runner tokens created through the API: `dfr_<id>_<secret>` (access/prefixed-secrets.ts).
// Revoking sets `revoked_at`; runner calls check tokens through runner-token-cache.ts, so a
// revoked runner is refused within its window (at once in the isolate that revoked it). A token
// serves the pools it was created for, and no other. (The bootstrap token, DAGFLARE_RUNNER_TOKEN,
// serves every pool and is checked in memory, at no read.)
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { prefixedSecrets, SECRET_ID } from "./access/prefixed-secrets";
import { db } from "./db/queries";
import { type RunnerTokenRow, runnerTokens } from "./db/schema";
import { DEFAULT_POOL, POOL_NAME } from "./shared/selector";

const TOKENS = prefixedSecrets("dfr");
export const TOKEN_ID = SECRET_ID;

/** More pools than this on one token is a sign that it should be two tokens. */
export const MAX_POOLS_PER_TOKEN = 100;

export const CreateRunnerTokenRequest = z.object({
  /** What the token is for, e.g. the host or team it is given to. */
  name: z.string().trim().min(1).max(200),
  /** The pools whose steps the token may lease (default: the default pool only). */
  pools: z
    .array(z.string().regex(POOL_NAME, "a pool name is 1-64 letters, digits, _ or -"))
    .min(1)
    .max(MAX_POOLS_PER_TOKEN)
    .default([DEFAULT_POOL])
    .transform((pools) => [...new Set(pools)].sort()),
});
export const RunnerTokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  /** The pools the token serves. */
  pools: z.array(z.string()),
  createdAt: z.string(),
  /** Set once revoked. */
  revokedAt: z.string().optional(),
});
export const CreateRunnerTokenResponse = RunnerTokenInfo.extend({
  /** The token itself: shown this once, never again. */
  token: z.string(),
});
export const RunnerTokenList = z.object({ tokens: z.array(RunnerTokenInfo) });

export type TokenCheck =
  | { kind: "valid"; id: string; pools: string[] }
  | { kind: "revoked"; id: string }
  | { kind: "invalid" };

/** Whether `text` has the form of a created runner token (it may still be unknown). */
export const looksLikeRunnerToken = TOKENS.looksLike;

export async function createRunnerToken(d1: D1Database, name: string, pools: string[], now = Date.now()) {
  const { id, text: token, hash } = await TOKENS.mint();
  const row: RunnerTokenRow = {
    id,
    name,
    hash,
    createdAt: now,
    revokedAt: null,
    pools: JSON.stringify(pools),
  };
  await db(d1).insert(runnerTokens).values(row).run();
  return { ...present(row), token };
}

export async function listRunnerTokens(d1: D1Database) {
  const rows = await db(d1).select().from(runnerTokens).orderBy(desc(runnerTokens.createdAt)).all();
  return rows.map(present);
}

/** Revokes a token; undefined when there is no such token. Revoking twice keeps the first time. */
export async function revokeRunnerToken(d1: D1Database, id: string, now = Date.now()) {
  const d = db(d1);
  await d
    .update(runnerTokens)
    .set({ revokedAt: now })
    .where(and(eq(runnerTokens.id, id), isNull(runnerTokens.revokedAt)))
    .run();
  const row = await d.select().from(runnerTokens).where(eq(runnerTokens.id, id)).get();
  return row ? present(row) : undefined;
}

export async function checkRunnerToken(d1: D1Database, text: string): Promise<TokenCheck> {
  const row = await TOKENS.find(text, (id) => db(d1).select().from(runnerTokens).where(eq(runnerTokens.id, id)).get());
  if (!row) return { kind: "invalid" };
  return row.revokedAt === null ? { kind: "valid", id: row.id, pools: poolsOf(row) } : { kind: "revoked", id: row.id };
}

function poolsOf(r: RunnerTokenRow): string[] {
  return JSON.parse(r.pools) as string[];
}

function present(r: RunnerTokenRow): z.infer<typeof RunnerTokenInfo> {
  return {
    id: r.id,
    name: r.name,
    pools: poolsOf(r),
    createdAt: new Date(r.createdAt).toISOString(),
    ...(r.revokedAt !== null && { revokedAt: new Date(r.revokedAt).toISOString() }),
  };
}
