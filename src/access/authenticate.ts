// The user door: who is calling /api/v2 (everything but /health, /openapi.json, /auth/login and
// the runner endpoints). One of four callers, each with a role:
//   - a signed-in user: a session token from POST /auth/login (sessions.ts), the user's role;
//   - an API key (api-keys.ts), the key's role;
//   - the operator's DAGFLARE_API_TOKEN, an admin;
//   - anyone, as an admin, when the operator turned authentication off (DAGFLARE_AUTH=off).
// Runner tokens are refused here. The caller is left in the request context as `actor`, for
// require-role.ts and for whatever records who did what.
import type { Context, MiddlewareHandler } from "hono";
import { bearer } from "../auth";
import type { Env } from "../env";
import { AppError } from "../errors";
import { subprotocolToken } from "../live/protocol";
import { checkRunnerToken, looksLikeRunnerToken } from "../runner-tokens";
import { checkApiKey, looksLikeApiKey } from "./api-keys";
import { sameSecret } from "./digest";
import type { Role } from "./roles";
import { looksLikeSession, readSession } from "./sessions";
import { userById } from "./users";

export type Actor =
  | { kind: "user"; id: string; name: string; role: Role }
  | { kind: "api-key"; id: string; name: string; role: Role }
  | { kind: "operator-token"; name: "DAGFLARE_API_TOKEN"; role: "admin" }
  | { kind: "open"; name: "anonymous"; role: "admin" };

declare module "hono" {
  interface ContextVariableMap {
    /** Who is calling the user API (set by requireUser). */
    actor: Actor;
  }
}

export const actorOf = (c: Context): Actor => c.get("actor");

export function requireUser(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    // A browser's WebSocket cannot set headers: it offers the token as a subprotocol (docs/live.md).
    const given = bearer(c.req.header("authorization")) ?? subprotocolToken(c.req.raw);
    c.set("actor", await authenticate(c.env, given));
    return next();
  };
}

export async function authenticate(env: Env, given: string | undefined): Promise<Actor> {
  if (env.DAGFLARE_AUTH === "off") return { kind: "open", name: "anonymous", role: "admin" };
  if (!given) {
    if (!env.DAGFLARE_API_TOKEN && !env.DAGFLARE_SESSION_SECRET) {
      throw new AppError(
        "unauthorized",
        401,
        "authentication is required but DAGFLARE_API_TOKEN is not configured (nor DAGFLARE_SESSION_SECRET, for signing in): set it with `wrangler secret put DAGFLARE_API_TOKEN`, or set DAGFLARE_AUTH=off to serve without authentication",
      );
    }
    throw new AppError("unauthorized", 401, "missing bearer token (Authorization: Bearer <token>)");
  }
  if (looksLikeRunnerToken(given)) {
    const check = await checkRunnerToken(env.DB, given);
    if (check.kind === "revoked") throw new AppError("unauthorized", 401, `runner token ${check.id} was revoked`);
    if (check.kind === "invalid") throw new AppError("unauthorized", 401, "invalid bearer token");
    throw new AppError("forbidden", 403, "a runner token cannot call the user API");
  }
  if (looksLikeApiKey(given)) {
    const check = await checkApiKey(env.DB, given);
    if (check.kind === "revoked") throw new AppError("unauthorized", 401, `API key ${check.id} was revoked`);
    if (check.kind === "invalid") throw new AppError("unauthorized", 401, "invalid API key");
    return { kind: "api-key", id: check.id, name: check.name, role: check.role };
  }
  const operator = env.DAGFLARE_API_TOKEN;
  if (operator && (await sameSecret(given, operator))) {
    return { kind: "operator-token", name: "DAGFLARE_API_TOKEN", role: "admin" };
  }
  if (looksLikeSession(given)) {
    const claims = await readSession(env, given);
    const user = await userById(env.DB, claims.sub);
    // A deleted user, or a password changed or reset since the session began.
    if (!user || user.sessionGen !== claims.gen) {
      throw new AppError("unauthorized", 401, "session ended: sign in again");
    }
    return { kind: "user", id: user.id, name: user.username, role: user.role as Role };
  }
  const runner = env.DAGFLARE_RUNNER_TOKEN;
  if (runner && (await sameSecret(given, runner))) {
    throw new AppError("forbidden", 403, "a runner token cannot call the user API");
  }
  throw new AppError("unauthorized", 401, "invalid bearer token");
}
