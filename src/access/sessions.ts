// Sessions: a JWT (HS256, hono/jwt) signed with the Worker secret DAGFLARE_SESSION_SECRET,
// valid for SESSION_TTL_SEC. It names the user and the user's session generation; a password
// change or reset raises the generation, so every older session stops working at once. The
// role is not in the token: it is read with the user at every call, so a role change applies
// at the caller's next request.
import { sign, verify } from "hono/jwt";
import type { Env } from "../env";
import { AppError } from "../errors";

export const SESSION_TTL_SEC = 12 * 60 * 60;
/** A shorter HS256 secret could be found by trying, offline, against one captured token. */
export const MIN_SESSION_SECRET_CHARS = 32;

export interface SessionClaims {
  /** The user's id. */
  sub: string;
  /** The user's session generation when the session was issued. */
  gen: number;
  exp: number;
}

/** Whether `text` has the form of a JWT (three base64url parts), so it is checked as a session. */
export const looksLikeSession = (text: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(text);

export function sessionSecret(env: Env): string {
  const secret = env.DAGFLARE_SESSION_SECRET;
  if (!secret || secret.length < MIN_SESSION_SECRET_CHARS) {
    throw new AppError(
      "internal_error",
      503,
      `sign-in needs DAGFLARE_SESSION_SECRET, a secret of at least ${MIN_SESSION_SECRET_CHARS} characters: set it with \`wrangler secret put DAGFLARE_SESSION_SECRET\` (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  return secret;
}

export async function issueSession(env: Env, userId: string, gen: number, nowMs = Date.now()) {
  const exp = Math.floor(nowMs / 1000) + SESSION_TTL_SEC;
  const token = await sign({ sub: userId, gen, iat: Math.floor(nowMs / 1000), exp }, sessionSecret(env), "HS256");
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** The claims of a valid session; a 401 naming the reason otherwise (expired, forged, malformed). */
export async function readSession(env: Env, token: string): Promise<SessionClaims> {
  let payload: Record<string, unknown>;
  try {
    payload = await verify(token, sessionSecret(env), "HS256");
  } catch (err) {
    if (err instanceof AppError) throw err;
    const expired = (err as Error).name === "JwtTokenExpired";
    throw new AppError("unauthorized", 401, expired ? "session expired: sign in again" : "invalid session token");
  }
  const { sub, gen, exp } = payload;
  if (typeof sub !== "string" || typeof gen !== "number" || typeof exp !== "number") {
    throw new AppError("unauthorized", 401, "invalid session token");
  }
  return { sub, gen, exp };
}
