// /runner-tokens: create, list and revoke runner tokens (dagflare's addition; user token only).
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { AppError } from "../errors";
import { dagflare, errorResponse, jsonResponse } from "../openapi/route-docs";
import { forgetRunnerToken } from "../runner-token-cache";
import {
  CreateRunnerTokenRequest,
  CreateRunnerTokenResponse,
  createRunnerToken,
  listRunnerTokens,
  RunnerTokenInfo,
  RunnerTokenList,
  revokeRunnerToken,
  TOKEN_ID,
} from "../runner-tokens";
import { dispatcherFor } from "../stubs";
import { json, param, pathSegment } from "./validate";

export const runnerTokensRoute = new Hono<{ Bindings: Env }>()
  .get(
    "/",
    dagflare({
      summary: "List runner tokens (never the secrets)",
      tags: ["runner-tokens"],
      responses: { "200": jsonResponse("The tokens, newest first", RunnerTokenList) },
    }),
    async (c) => c.json({ tokens: await listRunnerTokens(c.env.DB) }),
  )
  .post(
    "/",
    dagflare({
      summary: "Create a runner token; the secret is in this response only",
      tags: ["runner-tokens"],
      responses: { "201": jsonResponse("Created", CreateRunnerTokenResponse), default: errorResponse("Error") },
    }),
    json(CreateRunnerTokenRequest),
    async (c) => {
      const { name, pools } = c.req.valid("json");
      return c.json(await createRunnerToken(c.env.DB, name, pools), 201);
    },
  )
  .delete(
    "/:id",
    dagflare({
      summary: "Revoke a runner token: a runner using it is refused at its next call",
      tags: ["runner-tokens"],
      responses: {
        "200": jsonResponse("The revoked token", RunnerTokenInfo),
        "404": errorResponse("No such token"),
        default: errorResponse("Error"),
      },
    }),
    param(z.object({ id: pathSegment(TOKEN_ID, (v) => `"${v}" is not a runner token id`) })),
    async (c) => {
      const { id } = c.req.valid("param");
      const revoked = await revokeRunnerToken(c.env.DB, id);
      if (!revoked) throw new AppError("not_found", 404, `runner token ${id} not found`);
      // Refused at once here; other isolates read it again within RUNNER_TOKEN_CACHE_MS.
      forgetRunnerToken(id);
      // Its runners' sockets close now; their HTTP calls are refused from the next one on.
      await Promise.all(revoked.pools.map((pool) => dispatcherFor(c.env, pool).closeToken(id)));
      return c.json(revoked);
    },
  );
