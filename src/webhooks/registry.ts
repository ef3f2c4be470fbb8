// The webhooks of a deployment, in D1: create (the secret is answered once), list, get,
// delete, and the isolate's cached list of subscriptions that runs and dispatchers match their
// events against. One D1 read per isolate per WEBHOOK_CACHE_MS, however many runs there are;
// a deployment with no webhook pays that read and nothing else.
import { desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { db } from "../db/queries";
import { type WebhookRow, webhooks } from "../db/schema";
import type { Env } from "../env";
import { AppError } from "../errors";
import { isEventPattern, type WebhookFilters, type WebhookSubscription } from "./events";
import {
  MAX_EVENT_PATTERNS,
  MAX_FILTER_NAMES,
  MAX_HEADER_BYTES,
  MAX_HEADERS,
  MAX_URL_CHARS,
  MAX_WEBHOOKS,
  WEBHOOK_CACHE_MS,
} from "./limits";
import { WEBHOOK_FORMATS, type WebhookFormat } from "./payload";

export const WEBHOOK_ID = /^wh_[0-9a-f]{16}$/;

/** Headers a webhook may not set: the request's own, and the signature's. */
const RESERVED_HEADERS = new Set(["host", "content-type", "content-length", "connection", "transfer-encoding"]);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
/** A DAG or step name glob: no control characters; `*` is the wildcard. */
const NameGlob = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !/[\p{Cc}]/u.test(s), "a name may not hold control characters");

export const WebhookFiltersSchema = z
  .object({
    dagNames: z.array(NameGlob).max(MAX_FILTER_NAMES).optional().describe("DAG names (`*` matches any characters)"),
    stepNames: z.array(NameGlob).max(MAX_FILTER_NAMES).optional().describe("Step names (`*` matches any characters)"),
  })
  .strict();

export const CreateWebhookRequest = z.object({
  name: z.string().trim().min(1).max(200).optional().describe("What it is for; default: the URL's host"),
  url: z.string().max(MAX_URL_CHARS).describe("Where events are POSTed: https (loopback http only when local)"),
  events: z
    .array(z.string().refine(isEventPattern, { error: (issue) => `unknown event "${String(issue.input)}"` }))
    .min(1)
    .max(MAX_EVENT_PATTERNS)
    .describe("Event names, or `dag.*`, `task.*`, `runner.*`, `*`"),
  filters: WebhookFiltersSchema.default({}),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .superRefine((headers, ctx) => checkHeaders(headers, ctx))
    .describe("Extra request headers"),
  secret: z
    .string()
    .min(16)
    .max(256)
    .optional()
    .describe("Signs every delivery; default: generated. Answered once, at creation"),
  format: z.enum(WEBHOOK_FORMATS).default("json").describe("`json`: dagflare's event; `slack`: `{text, blocks}`"),
});
export type CreateWebhookInput = z.infer<typeof CreateWebhookRequest>;

export const WebhookInfo = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  filters: WebhookFiltersSchema,
  /** Extra headers' names; their values may be credentials and are not answered. */
  headerNames: z.array(z.string()),
  format: z.enum(WEBHOOK_FORMATS),
  createdBy: z.string(),
  createdAt: z.string(),
});
export const CreateWebhookResponse = WebhookInfo.extend({
  /** The signing secret: in this answer only. */
  secret: z.string(),
});
export const WebhookList = z.object({ webhooks: z.array(WebhookInfo) });

function checkHeaders(headers: Record<string, string>, ctx: z.RefinementCtx): void {
  const names = Object.keys(headers);
  if (names.length > MAX_HEADERS) ctx.addIssue({ code: "custom", message: `at most ${MAX_HEADERS} headers` });
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    bytes += new TextEncoder().encode(name + value).length;
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({ code: "custom", path: [name], message: "not a valid header name" });
    } else if (RESERVED_HEADERS.has(lower) || lower.startsWith("x-dagflare-")) {
      ctx.addIssue({ code: "custom", path: [name], message: "set by dagflare itself" });
    }
    if (/[\r\n\0]/.test(value)) ctx.addIssue({ code: "custom", path: [name], message: "a value is one line" });
  }
  if (bytes > MAX_HEADER_BYTES) {
    ctx.addIssue({ code: "custom", message: `headers take ${bytes} bytes, over the limit of ${MAX_HEADER_BYTES}` });
  }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A delivery URL: https, or http to a loopback host when DAGFLARE_WEBHOOKS_LOOPBACK is "on"
 * (set by `npm start` and the tests: a Worker on your machine posting to a receiver beside it).
 * Loopback hosts are refused otherwise, over https too: on Cloudflare they are nobody's.
 */
export function checkUrl(env: Env, text: string): URL {
  const bad = (why: string) => new AppError("bad_request", 400, `url: ${why}`, { fields: ["url"] });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`"${text}" is not a URL`);
  }
  if (url.username || url.password) throw bad("put credentials in headers, not in the URL");
  const loopback = LOOPBACK.test(url.hostname);
  const local = env.DAGFLARE_WEBHOOKS_LOOPBACK === "on";
  if (loopback && !local) throw bad("a loopback host is reachable only when dagflare runs locally");
  if (url.protocol === "https:" || (loopback && url.protocol === "http:")) return url;
  throw bad(local ? "must be https (or http to a loopback host)" : "must be https");
}

export async function createWebhook(env: Env, input: CreateWebhookInput, createdBy: string, now = Date.now()) {
  const url = checkUrl(env, input.url);
  const d = db(env.DB);
  const count = (await d.select({ n: sql<number>`count(*)` }).from(webhooks).get())?.n ?? 0;
  if (count >= MAX_WEBHOOKS) {
    throw new AppError("bad_request", 400, `a deployment has at most ${MAX_WEBHOOKS} webhooks: delete one first`);
  }
  const secret = input.secret ?? `whsec_${hex(24)}`;
  const row: WebhookRow = {
    id: `wh_${hex(8)}`,
    name: input.name ?? url.host,
    url: url.href,
    events: JSON.stringify([...new Set(input.events)]),
    filters: JSON.stringify(input.filters),
    headers: JSON.stringify(input.headers),
    secret,
    format: input.format,
    createdBy,
    createdAt: now,
  };
  await d.insert(webhooks).values(row).run();
  forgetSubscriptions();
  return { ...present(row), secret };
}

export async function listWebhooks(d1: D1Database) {
  return (await db(d1).select().from(webhooks).orderBy(desc(webhooks.createdAt)).all()).map(present);
}

/** The whole row, secret included: for the delivery object only, never for an answer. */
export async function webhookRow(d1: D1Database, id: string): Promise<WebhookRow | undefined> {
  return db(d1).select().from(webhooks).where(eq(webhooks.id, id)).get();
}

export async function getWebhook(d1: D1Database, id: string) {
  const row = await webhookRow(d1, id);
  if (!row) throw new AppError("not_found", 404, `webhook ${id} not found`, { field: "id" });
  return present(row);
}

export async function deleteWebhook(d1: D1Database, id: string) {
  const found = await getWebhook(d1, id);
  await db(d1).delete(webhooks).where(eq(webhooks.id, id)).run();
  forgetSubscriptions();
  return found;
}

function present(r: WebhookRow): z.infer<typeof WebhookInfo> {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    filters: JSON.parse(r.filters) as WebhookFilters,
    headerNames: Object.keys(JSON.parse(r.headers) as Record<string, string>),
    format: r.format as WebhookFormat,
    createdBy: r.createdBy,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}

// ---- the isolate's cached subscriptions ----------------------------------------------------

let cached: { list: WebhookSubscription[]; until: number } | undefined;
let reading: Promise<WebhookSubscription[]> | undefined;

/**
 * Every webhook's events and filters. The list this isolate holds is answered at once (a run
 * never waits on D1 for it) and read again in the background once WEBHOOK_CACHE_MS old; only
 * an isolate that holds none yet waits for the read. When D1 cannot be read the last list stands.
 */
export function webhookSubscriptions(
  env: Env,
  now = Date.now(),
): WebhookSubscription[] | Promise<WebhookSubscription[]> {
  if (cached && cached.until > now) return cached.list;
  reading ??= readSubscriptions(env, now);
  return cached ? cached.list : reading;
}

async function readSubscriptions(env: Env, now: number): Promise<WebhookSubscription[]> {
  try {
    const rows = await db(env.DB)
      .select({ id: webhooks.id, events: webhooks.events, filters: webhooks.filters })
      .from(webhooks)
      .all();
    const list = rows.map((r) => ({
      id: r.id,
      events: JSON.parse(r.events) as string[],
      filters: JSON.parse(r.filters) as WebhookFilters,
    }));
    cached = { list, until: now + WEBHOOK_CACHE_MS };
    return list;
  } catch (err) {
    console.error("webhooks: could not read the list, keeping the last one", err);
    const list = cached?.list ?? [];
    cached = { list, until: now + WEBHOOK_CACHE_MS };
    return list;
  } finally {
    reading = undefined;
  }
}

/** A webhook was created or deleted in this isolate: the next event waits for the new list. */
export function forgetSubscriptions(): void {
  cached = undefined;
  reading = undefined;
}

function hex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}
