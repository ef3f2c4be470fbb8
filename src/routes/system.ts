import { Hono } from "hono";
import type { Env } from "../env";
import { dagu } from "../openapi/route-docs";

export const VERSION = "0.1.0";
// Workers freeze the clock at the Unix epoch while a module loads, so the start is taken at the
// isolate's first request, not at import.
let startedAt: number | undefined;

/** When this Worker isolate served its first request (each isolate has its own), epoch ms. */
export const isolateStartedAt = (): number => {
  startedAt ??= Date.now();
  return startedAt;
};

/** Seconds since this Worker isolate served its first request. */
export const uptimeSec = (): number => Math.floor((Date.now() - isolateStartedAt()) / 1000);

export const system = new Hono<{ Bindings: Env }>().get(
  "/health",
  dagu("getHealthStatus", { override: { security: [] } }),
  (c) =>
    c.json({
      status: "healthy" as const,
      version: VERSION,
      uptime: uptimeSec(),
      timestamp: new Date().toISOString(),
    }),
);
