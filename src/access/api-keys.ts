// API keys for scripts and CI: `dfk_<id>_<secret>` (prefixed-secrets.ts), each with a role.
// Revoking sets `revoked_at`, and the key is refused at its very next call.
import { and, count, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { db } from "../db/queries";
import { type ApiKeyRow, apiKeys } from "../db/schema";
import { AppError } from "../errors";
import { prefixedSecrets, SECRET_ID } from "./prefixed-secrets";
import { ROLES, type Role } from "./roles";

const KEYS = prefixedSecrets("dfk");
export const API_KEY_ID = SECRET_ID;

/** Keys not revoked at one time: more is a sign keys are made per call instead of per system. */
export const MAX_ACTIVE_API_KEYS = 100;

export const CreateApiKeyRequest = z.object({
  /** What the key is for, e.g. the CI pipeline that holds it. */
  name: z.string().trim().min(1).max(200),
  role: z.enum(ROLES),
});
export const ApiKeyInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdBy: z.string(),
  createdAt: z.string(),
  /** Set once revoked. */
  revokedAt: z.string().optional(),
});
export const CreateApiKeyResponse = ApiKeyInfo.extend({
  /** The key itself: shown this once, never again. */
  key: z.string(),
});
export const ApiKeyList = z.object({ apiKeys: z.array(ApiKeyInfo) });

export type KeyCheck =
  | { kind: "valid"; id: string; name: string; role: Role }
  | { kind: "revoked"; id: string }
  | { kind: "invalid" };

export const looksLikeApiKey = KEYS.looksLike;

export async function createApiKey(d1: D1Database, name: string, role: Role, createdBy: string, now = Date.now()) {
  const d = db(d1);
  const active = await d.select({ n: count() }).from(apiKeys).where(isNull(apiKeys.revokedAt)).get();
  if ((active?.n ?? 0) >= MAX_ACTIVE_API_KEYS) {
    throw new AppError(
      "bad_request",
      400,
      `there are already ${MAX_ACTIVE_API_KEYS} API keys not revoked, the limit: revoke one first`,
    );
  }
  const { id, text: key, hash } = await KEYS.mint();
  const row: ApiKeyRow = { id, name, role, hash, createdBy, createdAt: now, revokedAt: null };
  await d.insert(apiKeys).values(row).run();
  return { ...present(row), key };
}

export async function listApiKeys(d1: D1Database) {
  const rows = await db(d1).select().from(apiKeys).orderBy(desc(apiKeys.createdAt)).all();
  return rows.map(present);
}

/** Revokes a key; undefined when there is no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(d1: D1Database, id: string, now = Date.now()) {
  const d = db(d1);
  await d
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .run();
  const row = await d.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  return row ? present(row) : undefined;
}

export async function checkApiKey(d1: D1Database, text: string): Promise<KeyCheck> {
  const row = await KEYS.find(text, (id) => db(d1).select().from(apiKeys).where(eq(apiKeys.id, id)).get());
  if (!row) return { kind: "invalid" };
  if (row.revokedAt !== null) return { kind: "revoked", id: row.id };
  return { kind: "valid", id: row.id, name: row.name, role: row.role as Role };
}

function present(r: ApiKeyRow): z.infer<typeof ApiKeyInfo> {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    createdBy: r.createdBy,
    createdAt: new Date(r.createdAt).toISOString(),
    ...(r.revokedAt !== null && { revokedAt: new Date(r.revokedAt).toISOString() }),
  };
}
