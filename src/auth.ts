// Two kinds of credentials, two doors. User credentials (the operator's DAGFLARE_API_TOKEN, API
// keys, sign-in sessions: src/access/authenticate.ts) open /api/v2 but not the runner endpoints;
// a runner token opens only /api/v2/runners. The bootstrap runner token is a Worker secret; more
// runner tokens are created and revoked through /runner-tokens. A Worker with no credential
// configured refuses to serve unless the operator explicitly set DAGFLARE_AUTH=off.
import type { MiddlewareHandler } from "hono";
import { looksLikeApiKey } from "./access/api-keys";
import { sameSecret } from "./access/digest";
import type { Env } from "./env";
import { AppError } from "./errors";
import { subprotocolToken } from "./live/protocol";
import { verifyRunnerToken } from "./runner-token-cache";
import { checkRunnerToken, looksLikeRunnerToken } from "./runner-tokens";

export { sameSecret };

/** The user door has its own middleware (requireUser, src/access/authenticate.ts). */
type Door = "runner";

/** Who is calling the runner endpoints: which token, serving which pools. */
export interface RunnerAuth {
  /** The created token's id; "bootstrap" for DAGFLARE_RUNNER_TOKEN; "open" without authentication. */
  tokenId: string;
  /** The pools this token may lease, register and report in; "all" for the bootstrap token. */
  pools: string[] | "all";
  /**
   * Checks the token again (a created one can be revoked meanwhile, e.g. during a long poll);
   * throws 401 when revoked. Within the token's cache window (src/runner-token-cache.ts).
   */
  recheck: () => Promise<void>;
}
export type RunnerVars = { Bindings: Env; Variables: { runnerAuth: RunnerAuth } };

/** A token shorter than this can be guessed more easily than it should: the logs say so. */
export const MIN_TOKEN_CHARS = 32;

export function requireToken(_door: Door): MiddlewareHandler<RunnerVars> {
  return async (c, next) => {
    const env = c.env;
    const allowed = (auth: Omit<RunnerAuth, "recheck">, recheck = async () => {}) => {
      c.set("runnerAuth", { ...auth, recheck });
      return next();
    };
    if (env.DAGFLARE_AUTH === "off") return allowed({ tokenId: "open", pools: "all" });
    const expected = env.DAGFLARE_RUNNER_TOKEN;
    const given = bearer(c.req.header("authorization")) ?? subprotocolToken(c.req.raw);
    // Runner tokens created through the API (src/runner-tokens.ts): one D1 read per token and window.
    if (given && looksLikeRunnerToken(given)) {
      const check = await checkCreated(env, given);
      return allowed(check, async () => void (await checkCreated(env, given)));
    }
    if (given && looksLikeApiKey(given)) {
      throw new AppError("forbidden", 403, "a user API key cannot call the runner endpoints");
    }
    if (!expected) {
      throw new AppError(
        "unauthorized",
        401,
        "authentication is required but DAGFLARE_RUNNER_TOKEN is not configured: set it with `wrangler secret put DAGFLARE_RUNNER_TOKEN`, or set DAGFLARE_AUTH=off to serve without authentication",
      );
    }
    if (!given) throw new AppError("unauthorized", 401, "missing bearer token (Authorization: Bearer <token>)");
    if (await sameSecret(given, expected)) return allowed({ tokenId: "bootstrap", pools: "all" });
    const user = env.DAGFLARE_API_TOKEN;
    if (user && (await sameSecret(given, user))) {
      throw new AppError("forbidden", 403, "a user API token cannot call the runner endpoints");
    }
    throw new AppError("unauthorized", 401, "invalid bearer token");
  };
}

async function checkCreated(env: Env, token: string): Promise<{ tokenId: string; pools: string[] }> {
  const check = await verifyRunnerToken(env.DB, token);
  if (check.kind === "revoked") {
    throw new AppError("unauthorized", 401, `runner token ${check.id} was revoked`, { tokenId: check.id });
  }
  if (check.kind === "invalid") throw new AppError("unauthorized", 401, "invalid bearer token");
  return { tokenId: check.id, pools: check.pools };
}

/**
 * Refuses every call while the user token is also a runner token: a runner (and whoever can
 * read its host) would then hold the keys to the whole API. Warns, once per isolate, about a
 * configured token shorter than MIN_TOKEN_CHARS.
 */
export function requireSeparateTokens(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const env = c.env;
    if (env.DAGFLARE_AUTH === "off") return next();
    warnIfShort("DAGFLARE_API_TOKEN", env.DAGFLARE_API_TOKEN);
    warnIfShort("DAGFLARE_RUNNER_TOKEN", env.DAGFLARE_RUNNER_TOKEN);
    const user = env.DAGFLARE_API_TOKEN;
    if (!user) return next();
    const shared =
      (await sameAsBootstrap(user, env.DAGFLARE_RUNNER_TOKEN)) ||
      (looksLikeRunnerToken(user) && (await checkRunnerToken(env.DB, user)).kind !== "invalid");
    if (shared) {
      throw new AppError(
        "internal_error",
        503,
        "refusing to serve: DAGFLARE_API_TOKEN is also a runner token, so any runner could call the whole API; give it a value of its own (`wrangler secret put DAGFLARE_API_TOKEN`)",
      );
    }
    return next();
  };
}

/** The secrets of an isolate do not change: their comparison is made once. */
let compared: { user: string; runner: string; same: boolean } | undefined;

async function sameAsBootstrap(user: string, runner: string | undefined): Promise<boolean> {
  if (!runner) return false;
  if (compared?.user !== user || compared.runner !== runner) {
    compared = { user, runner, same: await sameSecret(user, runner) };
  }
  return compared.same;
}

const warned = new Set<string>();

function warnIfShort(name: string, value: string | undefined): void {
  if (value === undefined || value === "" || value.length >= MIN_TOKEN_CHARS) return;
  const key = `${name}:${value}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(
    `${name} is ${value.length} characters long, shorter than ${MIN_TOKEN_CHARS}: use a long random value (e.g. \`openssl rand -hex 32\`)`,
  );
}

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return match?.[1]?.trim() || undefined;
}
