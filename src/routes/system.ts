import { Hono } from "hono";
import type { Env } from "../env";

export const VERSION = "0.1.0";
const startedAt = Date.now();

export const system = new Hono<{ Bindings: Env }>().get("/health", (c) =>
  c.json({
    status: "healthy" as const,
    version: VERSION,
    uptime: Math.floor((Date.now() - startedAt) / 1000),
    timestamp: new Date().toISOString(),
  }),
);
