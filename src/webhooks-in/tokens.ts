// Webhook tokens (Dagu's webhooks in): each starts runs of one DAG through
// POST /webhooks/{fileName}, and nothing else: `dfw_<id>_<secret>` (access/prefixed-secrets.ts).
import { and, count, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { prefixedSecrets, SECRET_ID } from "../access/prefixed-secrets";
import { db } from "../db/queries";
import { type WebhookTokenRow, webhookTokens } from "../db/schema";
import { AppError } from "../errors";
import { MAX_WEBHOOK_TOKENS_PER_DAG } from "../limits";

const TOKENS = prefixedSecrets("dfw");
export const WEBHOOK_TOKEN_ID = SECRET_ID;

export const CreateWebhookTokenRequest = z.object({
  /** What the token is for, e.g. the system that calls the webhook. */
  name: z.string().trim().min(1).max(200).describe("What the token is for, e.g. the system that holds it."),
});
export const WebhookTokenInfo = z.object({
  id: z.string(),
  dagName: z.string(),
  name: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});
export const CreateWebhookTokenResponse = WebhookTokenInfo.extend({
  token: z.string().describe("The token itself: shown this once, never again."),
});
export const WebhookTokenList = z.object({ webhookTokens: z.array(WebhookTokenInfo) });

export async function createWebhookToken(
  d1: D1Database,
  dagName: string,
  name: string,
  createdBy: string,
  now = Date.now(),
) {
  const d = db(d1);
  const active = await d
    .select({ n: count() })
    .from(webhookTokens)
    .where(and(eq(webhookTokens.dagName, dagName), isNull(webhookTokens.revokedAt)))
    .get();
  if ((active?.n ?? 0) >= MAX_WEBHOOK_TOKENS_PER_DAG) {
    throw new AppError(
      "bad_request",
      400,
      `DAG ${dagName} already has ${MAX_WEBHOOK_TOKENS_PER_DAG} webhook tokens not revoked, the limit: revoke one first`,
    );
  }
  const { id, text: token, hash } = await TOKENS.mint();
  const row: WebhookTokenRow = {
    id,
    dagName,
    name,
    hash,
    createdBy,
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
  };
  await d.insert(webhookTokens).values(row).run();
  return { ...present(row), token };
}

export async function listWebhookTokens(d1: D1Database, dagName: string) {
  const rows = await db(d1)
    .select()
    .from(webhookTokens)
    .where(eq(webhookTokens.dagName, dagName))
    .orderBy(desc(webhookTokens.createdAt))
    .all();
  return rows.map(present);
}

/** Revokes a token of `dagName`; undefined when it has no such token. Revoking twice keeps the first time. */
export async function revokeWebhookToken(d1: D1Database, dagName: string, id: string, now = Date.now()) {
  const d = db(d1);
  const mine = and(eq(webhookTokens.id, id), eq(webhookTokens.dagName, dagName));
  await d
    .update(webhookTokens)
    .set({ revokedAt: now })
    .where(and(mine, isNull(webhookTokens.revokedAt)))
    .run();
  const row = await d.select().from(webhookTokens).where(mine).get();
  return row ? present(row) : undefined;
}

/**
 * The token's row when `text` is a live token of DAG `dagName` created since `notBefore` (the
 * DAG's creation: a token of a deleted DAG does not start a new DAG of the same name).
 * Undefined otherwise, whatever the reason, so that a caller learns nothing from a refusal.
 */
export async function checkWebhookToken(d1: D1Database, text: string, dagName: string, notBefore: number) {
  const row = await TOKENS.find(text, (id) =>
    db(d1).select().from(webhookTokens).where(eq(webhookTokens.id, id)).get(),
  );
  if (!row) return undefined;
  if (row.revokedAt !== null || row.dagName !== dagName || row.createdAt < notBefore) return undefined;
  return row;
}

export async function markUsed(d1: D1Database, id: string, now = Date.now()) {
  await db(d1).update(webhookTokens).set({ lastUsedAt: now }).where(eq(webhookTokens.id, id)).run();
}

function present(r: WebhookTokenRow): z.infer<typeof WebhookTokenInfo> {
  const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
  return {
    id: r.id,
    dagName: r.dagName,
    name: r.name,
    createdBy: r.createdBy,
    createdAt: new Date(r.createdAt).toISOString(),
    ...(r.lastUsedAt !== null && { lastUsedAt: iso(r.lastUsedAt) }),
    ...(r.revokedAt !== null && { revokedAt: iso(r.revokedAt) }),
  };
}
