// /api-keys: dagflare's API keys for scripts and CI, each with a role (admins only, by the roles
// table). The key is in the answer to its creation and never again.
import { Hono } from "hono";
import { z } from "zod";
import {
  API_KEY_ID,
  ApiKeyInfo,
  ApiKeyList,
  CreateApiKeyRequest,
  CreateApiKeyResponse,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from "../access/api-keys";
import { actorOf } from "../access/authenticate";
import type { Env } from "../env";
import { AppError } from "../errors";
import { dagflare, errorResponse, jsonResponse } from "../openapi/route-docs";
import { json, param, pathSegment } from "./validate";

export const apiKeysRoute = new Hono<{ Bindings: Env }>()
  .get(
    "/",
    dagflare({
      summary: "List API keys, revoked ones included (never the keys themselves). Admin role.",
      tags: ["api-keys"],
      responses: { "200": jsonResponse("The keys, newest first", ApiKeyList) },
    }),
    async (c) => c.json({ apiKeys: await listApiKeys(c.env.DB) }),
  )
  .post(
    "/",
    dagflare({
      summary: "Create an API key with a role; the key is in this response only. Admin role.",
      tags: ["api-keys"],
      responses: { "201": jsonResponse("Created", CreateApiKeyResponse), "400": errorResponse("Bad name or role") },
    }),
    json(CreateApiKeyRequest),
    async (c) => {
      const { name, role } = c.req.valid("json");
      return c.json(await createApiKey(c.env.DB, name, role, actorOf(c).name), 201);
    },
  )
  .delete(
    "/:id",
    dagflare({
      summary: "Revoke an API key: it is refused at its next call. Admin role.",
      tags: ["api-keys"],
      responses: { "200": jsonResponse("The revoked key", ApiKeyInfo), "404": errorResponse("No such key") },
    }),
    param(z.object({ id: pathSegment(API_KEY_ID, (v) => `"${v}" is not an API key id`) })),
    async (c) => {
      const { id } = c.req.valid("param");
      const revoked = await revokeApiKey(c.env.DB, id);
      if (!revoked) throw new AppError("not_found", 404, `API key ${id} not found`);
      return c.json(revoked);
    },
  );
