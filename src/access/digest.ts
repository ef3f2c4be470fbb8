// Random ids and secrets, SHA-256 digests and constant-time comparisons, shared by API keys,
// sessions and the operator's token.

export function hex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two hex digests. */
export async function sameHex(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [ea, eb] = [enc.encode(a), enc.encode(b)];
  return ea.length === eb.length && crypto.subtle.timingSafeEqual(ea, eb);
}

/** Constant-time comparison of two secrets of any length, through fixed-length digests. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
