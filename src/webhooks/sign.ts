// Delivery signatures: HMAC-SHA256 over `timestamp + "." + body` with the webhook's secret, hex,
// sent as `X-Dagflare-Signature: sha256=<hex>` with the timestamp (Unix seconds) in
// `X-Dagflare-Timestamp`. A receiver recomputes it and refuses old timestamps (docs/webhooks.md).

export const SIGNATURE_HEADER = "X-Dagflare-Signature";
export const TIMESTAMP_HEADER = "X-Dagflare-Timestamp";

export async function signature(secret: string, timestampSec: number, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, enc.encode(`${timestampSec}.${body}`));
  return `sha256=${Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
