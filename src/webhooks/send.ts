// One attempt of one delivery: render the body, sign it with a fresh timestamp, POST it with a
// timeout, and say what happened. Never throws: a failure is an attempt's data.
import type { WebhookRow } from "../db/schema";
import { renderBody, type WebhookEvent, type WebhookFormat } from "./payload";
import { SIGNATURE_HEADER, signature, TIMESTAMP_HEADER } from "./sign";

export interface AttemptResult {
  ok: boolean;
  at: number;
  durationMs: number;
  httpStatus?: number;
  error?: string;
}

export async function sendOnce(hook: WebhookRow, event: WebhookEvent, timeoutMs: number): Promise<AttemptResult> {
  const body = renderBody(event, hook.format as WebhookFormat);
  const at = Date.now();
  const timestampSec = Math.floor(at / 1000);
  const headers = {
    ...(JSON.parse(hook.headers) as Record<string, string>),
    "Content-Type": "application/json",
    "User-Agent": "dagflare-webhooks",
    "X-Dagflare-Event": event.type,
    "X-Dagflare-Event-Id": event.id,
    [TIMESTAMP_HEADER]: String(timestampSec),
    [SIGNATURE_HEADER]: await signature(hook.secret, timestampSec, body),
  };
  try {
    const res = await fetch(hook.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is not read: only its status counts.
    await res.body?.cancel();
    const durationMs = Date.now() - at;
    return { ok: res.status >= 200 && res.status < 300, at, durationMs, httpStatus: res.status };
  } catch (err) {
    const durationMs = Date.now() - at;
    const e = err as Error;
    const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
    return { ok: false, at, durationMs, error: timedOut ? `no answer within ${timeoutMs} ms` : e.message };
  }
}
