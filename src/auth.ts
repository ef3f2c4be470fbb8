// Two credentials, two doors: the user API token opens /api/v2 (but not the runner endpoints),
// the runner token opens only /api/v2/runners. Both are Worker secrets. A Worker with no token
// configured refuses to serve unless the operator explicitly set DAGFLARE_AUTH=off.
import type { MiddlewareHandler } from "hono";
import type { Env } from "./env";
import { AppError } from "./errors";

type Door = "user" | "runner";

export function requireToken(door: Door): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const env = c.env;
    if (env.DAGFLARE_AUTH === "off") return next();
    const expected = door === "user" ? env.DAGFLARE_API_TOKEN : env.DAGFLARE_RUNNER_TOKEN;
    const other = door === "user" ? env.DAGFLARE_RUNNER_TOKEN : env.DAGFLARE_API_TOKEN;
    if (!expected) {
      const secret = door === "user" ? "DAGFLARE_API_TOKEN" : "DAGFLARE_RUNNER_TOKEN";
      throw new AppError(
        "unauthorized",
        401,
        `authentication is required but ${secret} is not configured: set it with \`wrangler secret put ${secret}\`, or set DAGFLARE_AUTH=off to serve without authentication`,
      );
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1]) {
      throw new AppError("unauthorized", 401, "missing bearer token (Authorization: Bearer <token>)");
    }
    const given = match[1].trim();
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

/** Constant-time comparison through fixed-length digests. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
