// GET /openapi.json, without authentication: the whole API as one OpenAPI document (Dagu's
// contract with dagflare's additions, src/openapi/document.ts).
import { Hono } from "hono";
import type { Env } from "../env";
import { openApiDocument } from "../openapi/document";

export const openapi = new Hono<{ Bindings: Env }>().get("/openapi.json", (c) => c.json(openApiDocument()));
