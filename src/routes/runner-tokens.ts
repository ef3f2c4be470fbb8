// /runner-tokens: create, list and revoke runner tokens (dagflare's addition; user token only).
import { Hono } from "hono";
import { dispatcherFor } from "../dispatch/dispatch-object";
import type { Env } from "../env";
import { AppError } from "../errors";
import {
  CreateRunnerTokenRequest,
  createRunnerToken,
  listRunnerTokens,
  revokeRunnerToken,
  TOKEN_ID,
} from "../runner-tokens";
import { readJson } from "./validate";

export const runnerTokensRoute = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => c.json({ tokens: await listRunnerTokens(c.env.DB) }))
  .post("/", async (c) => {
    const { name, pools } = await readJson(c, CreateRunnerTokenRequest);
    return c.json(await createRunnerToken(c.env.DB, name, pools), 201);
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!TOKEN_ID.test(id)) throw new AppError("bad_request", 400, `"${id}" is not a runner token id`, { field: "id" });
    const revoked = await revokeRunnerToken(c.env.DB, id);
    if (!revoked) throw new AppError("not_found", 404, `runner token ${id} not found`);
    // Its runners' sockets close now; their HTTP calls are refused from the next one on.
    await Promise.all(revoked.pools.map((pool) => dispatcherFor(c.env, pool).closeToken(id)));
    return c.json(revoked);
  });
