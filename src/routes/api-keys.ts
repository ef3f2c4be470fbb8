// /api-keys: dagflare's API keys for scripts and CI, each with a role (admins only, by the roles
// table). The key is in the answer to its creation and never again.
import { Hono } from "hono";
import { API_KEY_ID, CreateApiKeyRequest, createApiKey, listApiKeys, revokeApiKey } from "../access/api-keys";
import { actorOf } from "../access/authenticate";
import type { Env } from "../env";
import { AppError } from "../errors";
import { jsonBody } from "./json-body";

export const apiKeysRoute = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => c.json({ apiKeys: await listApiKeys(c.env.DB) }))
  .post("/", jsonBody(CreateApiKeyRequest), async (c) => {
    const { name, role } = c.req.valid("json");
    return c.json(await createApiKey(c.env.DB, name, role, actorOf(c).name), 201);
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!API_KEY_ID.test(id)) throw new AppError("bad_request", 400, `"${id}" is not an API key id`, { field: "id" });
    const revoked = await revokeApiKey(c.env.DB, id);
    if (!revoked) throw new AppError("not_found", 404, `API key ${id} not found`);
    return c.json(revoked);
  });
