// /runner-tokens: create, list and revoke runner tokens (dagflare's addition; user token only).
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { AppError } from "../errors";
import {
  CreateRunnerTokenRequest,
  createRunnerToken,
  listRunnerTokens,
  revokeRunnerToken,
  TOKEN_ID,
} from "../runner-tokens";
import { json, param, pathSegment } from "./validate";

export const runnerTokensRoute = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => c.json({ tokens: await listRunnerTokens(c.env.DB) }))
  .post("/", json(CreateRunnerTokenRequest), async (c) => {
    const { name, pools } = c.req.valid("json");
    return c.json(await createRunnerToken(c.env.DB, name, pools), 201);
  })
  .delete(
    "/:id",
    param(z.object({ id: pathSegment(TOKEN_ID, (v) => `"${v}" is not a runner token id`) })),
    async (c) => {
      const { id } = c.req.valid("param");
      const revoked = await revokeRunnerToken(c.env.DB, id);
      if (!revoked) throw new AppError("not_found", 404, `runner token ${id} not found`);
      return c.json(revoked);
    },
  );
