// GET /openapi.json, without authentication: the whole API as one OpenAPI document, generated
// from the routes of the app it is mounted in (src/openapi/document.ts).
import { Hono } from "hono";
import type { Env } from "../env";
import { openApiDocument } from "../openapi/document";
import { dagflare } from "../openapi/route-docs";

export const openapi = (api: Hono<any, any, any>) =>
  new Hono<{ Bindings: Env }>().get(
    "/openapi.json",
    dagflare({
      summary: "This document",
      operationId: "getOpenAPIDocument",
      tags: ["system"],
      security: [],
      responses: {
        "200": { description: "The OpenAPI document of the whole API", content: { "application/json": {} } },
      },
    }),
    async (c) => c.json(await openApiDocument(api)),
  );
