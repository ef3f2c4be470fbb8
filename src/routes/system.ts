import { Hono } from "hono";
import type { Env } from "../env";

export const VERSION = "0.1.0";
/** When this Worker isolate started (each isolate has its own). */
export const isolateStartedAt = Date.now();

/** Seconds since this Worker isolate started. */
export const uptimeSec = (): number => Math.floor((Date.now() - isolateStartedAt) / 1000);

export const system = new Hono<{ Bindings: Env }>().get("/health", (c) =>
  c.json({
    status: "healthy" as const,
    version: VERSION,
    uptime: uptimeSec(),
    timestamp: new Date().toISOString(),
  }),
);
