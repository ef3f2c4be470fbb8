// Two credentials, two doors: the user API token opens /api/v2 (but not the runner endpoints),
// a runner token opens only /api/v2/runners. The user token and the bootstrap runner token are
// Worker secrets; more runner tokens are created and revoked through /runner-tokens. A Worker with no token
// configured refuses to serve unless the operator explicitly set DAGFLARE_AUTH=off.
import type { MiddlewareHandler } from "hono";
import type { Env } from "./env";
import { AppError } from "./errors";
import { subprotocolToken } from "./live/protocol";
import { checkRunnerToken, looksLikeRunnerToken } from "./runner-tokens";

type Door = "user" | "runner";

export function requireToken(door: Door): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const env = c.env;
    if (env.DAGFLARE_AUTH === "off") return next();
    const expected = door === "user" ? env.DAGFLARE_API_TOKEN : env.DAGFLARE_RUNNER_TOKEN;
    const other = door === "user" ? env.DAGFLARE_RUNNER_TOKEN : env.DAGFLARE_API_TOKEN;
    // A browser's WebSocket cannot set headers: it offers the token as a subprotocol (docs/live.md).
    const given = bearer(c.req.header("authorization")) ?? subprotocolToken(c.req.raw);
    // Runner tokens created through the API (src/runner-tokens.ts): one D1 read per call.
    if (given && looksLikeRunnerToken(given)) {
      const check = await checkRunnerToken(env.DB, given);
      if (check.kind === "revoked") {
        throw new AppError("unauthorized", 401, `runner token ${check.id} was revoked`, { tokenId: check.id });
      }
      if (check.kind === "valid") {
        if (door === "runner") return next();
        throw new AppError("forbidden", 403, "a runner token cannot call the user API");
      }
      throw new AppError("unauthorized", 401, "invalid bearer token");
    }
    if (!expected) {
      const secret = door === "user" ? "DAGFLARE_API_TOKEN" : "DAGFLARE_RUNNER_TOKEN";
      throw new AppError(
        "unauthorized",
        401,
        `authentication is required but ${secret} is not configured: set it with \`wrangler secret put ${secret}\`, or set DAGFLARE_AUTH=off to serve without authentication`,
      );
    }
    if (!given) throw new AppError("unauthorized", 401, "missing bearer token (Authorization: Bearer <token>)");
    if (await sameSecret(given, expected)) return next();
    if (other && (await sameSecret(given, other))) {
      const msg =
        door === "user"
          ? "a runner token cannot call the user API"
          : "a user API token cannot call the runner endpoints";
      throw new AppError("forbidden", 403, msg);
    }
    throw new AppError("unauthorized", 401, "invalid bearer token");
  };
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return match?.[1]?.trim() || undefined;
}

/** Constant-time comparison through fixed-length digests. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
