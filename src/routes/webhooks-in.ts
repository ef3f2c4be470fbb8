// Webhooks in (Dagu's): POST /webhooks/{fileName} with a DAG's webhook token starts a run of that
// DAG, the request's JSON body its WEBHOOK_PAYLOAD param; and the tokens' management under
// /dags/{fileName}/webhook-tokens (manager role, as webhooks are the manager's by the roles table).
// The trigger takes no user credential: the token is the whole of its authority, and a refusal
// reads the same whether the token is wrong, revoked, of another DAG, or the DAG does not exist.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { actorOf } from "../access/authenticate";
import { bearer } from "../auth";
import { loadDag } from "../dags/catalogue";
import { db, getDag } from "../db/queries";
import type { Env } from "../env";
import { AppError } from "../errors";
import { MAX_WEBHOOK_PAYLOAD_BYTES, showBytes } from "../limits";
import { dagflare, errorResponse, jsonResponse } from "../openapi/route-docs";
import { startRun } from "../run/start-run";
import { readWebhookBody, WEBHOOK_PARAM } from "../webhooks-in/payload";
import {
  CreateWebhookTokenRequest,
  CreateWebhookTokenResponse,
  checkWebhookToken,
  createWebhookToken,
  listWebhookTokens,
  markUsed,
  revokeWebhookToken,
  WEBHOOK_TOKEN_ID,
  WebhookTokenInfo,
  WebhookTokenList,
} from "../webhooks-in/tokens";
import { DAG_NAME } from "./dags";
import { json, param, pathSegment } from "./validate";

const fileNameParam = { name: "fileName", in: "path", required: true, schema: { type: "string" } };

const refused = () => new AppError("unauthorized", 401, "invalid webhook token (Authorization: Bearer <token>)");

const WebhookTriggered = z.object({ dagRunId: z.string(), dagName: z.string() });

export const webhookTrigger = new Hono<{ Bindings: Env }>().post(
  "/:fileName",
  dagflare({
    summary: `Start a run of the DAG with one of its webhook tokens (Authorization: Bearer <token>); the JSON body (or its \`payload\` field) is the run's ${WEBHOOK_PARAM} param`,
    description: `No user credential: the DAG's webhook token alone. A body with a \`payload\` field gives that field, and may name the run with \`dagRunId\`; any other JSON body is the payload whole. The run is enqueued, as Dagu does. The body is at most ${showBytes(MAX_WEBHOOK_PAYLOAD_BYTES)}.`,
    tags: ["webhooks"],
    security: [{ webhookToken: [] }],
    parameters: [fileNameParam],
    requestBody: { content: { "application/json": { schema: {} } } },
    responses: {
      "200": jsonResponse("The run was started", WebhookTriggered),
      "400": errorResponse("The body is not JSON, or the DAG refuses the start"),
      "401": errorResponse("No valid token of this DAG"),
      "409": errorResponse("A run of that dagRunId exists"),
      "413": errorResponse("The body is too large"),
    },
  }),
  bodyLimit({
    maxSize: MAX_WEBHOOK_PAYLOAD_BYTES,
    onError: () => {
      throw new AppError(
        "bad_request",
        413,
        `the webhook body is larger than ${showBytes(MAX_WEBHOOK_PAYLOAD_BYTES)}, the limit of a webhook body`,
      );
    },
  }),
  async (c) => {
    const fileName = c.req.param("fileName");
    const token = bearer(c.req.header("authorization"));
    const row = DAG_NAME.test(fileName) ? await getDag(db(c.env.DB), fileName) : undefined;
    // A DAG that does not exist is checked against the earliest time, so it costs the same lookup.
    const found = token && (await checkWebhookToken(c.env.DB, token, fileName, row?.createdAt ?? 0));
    if (!found || !row) throw refused();
    const start = readWebhookBody(await c.req.text());
    const { dag } = await loadDag(c.env, fileName);
    const { runId } = await startRun(c.env, dag, {
      params: JSON.stringify({ [WEBHOOK_PARAM]: start.payload }),
      ...(start.dagRunId !== undefined && { dagRunId: start.dagRunId }),
      enqueue: true,
    });
    await markUsed(c.env.DB, found.id);
    return c.json({ dagRunId: runId, dagName: dag.name } satisfies z.infer<typeof WebhookTriggered>);
  },
);

const FileNameParam = z.object({
  fileName: pathSegment(DAG_NAME, (v) => `invalid DAG name "${v}": must match ^[a-zA-Z0-9_-]+$`),
});

export const dagWebhookTokens = new Hono<{ Bindings: Env }>()
  .get(
    "/:fileName/webhook-tokens",
    dagflare({
      summary: "List the DAG's webhook tokens, revoked ones included (never the tokens themselves)",
      tags: ["webhooks"],
      responses: { "200": jsonResponse("The tokens, newest first", WebhookTokenList) },
    }),
    param(FileNameParam),
    async (c) => c.json({ webhookTokens: await listWebhookTokens(c.env.DB, c.req.valid("param").fileName) }),
  )
  .post(
    "/:fileName/webhook-tokens",
    dagflare({
      summary: "Create a webhook token that starts this DAG; the token is in this response only",
      tags: ["webhooks"],
      responses: {
        "201": jsonResponse("Created", CreateWebhookTokenResponse),
        "400": errorResponse("A bad name, or too many tokens"),
        "404": errorResponse("No such DAG"),
      },
    }),
    param(FileNameParam),
    json(CreateWebhookTokenRequest),
    async (c) => {
      const { dag } = await loadDag(c.env, c.req.valid("param").fileName);
      const made = await createWebhookToken(c.env.DB, dag.name, c.req.valid("json").name, actorOf(c).name);
      return c.json(made, 201);
    },
  )
  .delete(
    "/:fileName/webhook-tokens/:id",
    dagflare({
      summary: "Revoke a webhook token: it is refused at its next call",
      tags: ["webhooks"],
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      responses: { "200": jsonResponse("The revoked token", WebhookTokenInfo), "404": errorResponse("No such token") },
    }),
    param(FileNameParam.extend({ id: pathSegment(WEBHOOK_TOKEN_ID, (v) => `"${v}" is not a webhook token id`) })),
    async (c) => {
      const { fileName, id } = c.req.valid("param");
      const revoked = await revokeWebhookToken(c.env.DB, fileName, id);
      if (!revoked) throw new AppError("not_found", 404, `DAG ${fileName} has no webhook token ${id}`);
      return c.json(revoked);
    },
  );
