// Enforces route-roles.ts: the route Hono matched for this request (the first handler, not a
// middleware) is looked up in the table, and a caller below its level gets 403. A route missing
// from the table is refused to everyone: no route is open by omission.
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { AppError } from "../errors";
import { atLeast } from "./roles";
import { levelOf } from "./route-roles";

/** The API's prefixes, /api/v2 and current Dagu's /api/v1, both serving the same routes. */
export const API_PREFIX = /^\/api\/v[12](?=\/|$)/;

export function requireRole(): MiddlewareHandler {
  return async (c, next) => {
    const handler = matchedRoutes(c).find((r) => r.method !== "ALL");
    // No handler: the app answers 404 "no route", whoever asks.
    if (!handler) return next();
    const path = handler.path.replace(API_PREFIX, "") || "/";
    const level = levelOf(c.req.method, path);
    const actor = c.get("actor");
    if (level === "public" || level === "runner") return next();
    if (level === undefined) {
      throw new AppError(
        "forbidden",
        403,
        `no role may call ${c.req.method} ${path} yet: it is missing from the roles table`,
      );
    }
    if (!atLeast(actor.role, level)) {
      throw new AppError(
        "forbidden",
        403,
        `${actor.name} (${actor.role}) may not call ${c.req.method} ${path}: it needs the ${level} role or higher`,
        { requiredRole: level, role: actor.role },
      );
    }
    return next();
  };
}
