// /outgoing-webhooks: register, list, get and delete the webhooks that hear of runs and runners,
// and read a webhook's recent deliveries with every attempt (src/webhooks/; managers and up).
// The signing secret is in the creation's answer only. (Incoming webhooks, which start runs,
// are another resource.)
import { Hono } from "hono";
import { z } from "zod";
import { actorOf } from "../access/authenticate";
import type { Env } from "../env";
import { dagflare, errorResponse, jsonResponse } from "../openapi/route-docs";
import { webhookStub } from "../stubs";
import { KEPT_DELIVERIES } from "../webhooks/limits";
import {
  CreateWebhookRequest,
  CreateWebhookResponse,
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  WEBHOOK_ID,
  WebhookInfo,
  WebhookList,
} from "../webhooks/registry";
import { json, param, pathSegment, query } from "./validate";

const Id = param(z.object({ id: pathSegment(WEBHOOK_ID, (v) => `"${v}" is not a webhook id`) }));

const Attempt = z.object({
  attempt: z.number().int(),
  at: z.string(),
  durationMs: z.number().int(),
  httpStatus: z.number().int().optional(),
  error: z.string().optional(),
});
export const DeliveryList = z.object({
  deliveries: z.array(
    z.object({
      id: z.string().describe("The event's id (X-Dagflare-Event-Id)"),
      event: z.string(),
      createdAt: z.string(),
      status: z.enum(["pending", "delivered", "failed"]),
      nextAttemptAt: z.string().optional(),
      attempts: z.array(Attempt),
    }),
  ),
});

export const webhooksRoute = new Hono<{ Bindings: Env }>()
  .get(
    "/",
    dagflare({
      summary: "List outgoing webhooks (never their secrets or header values). Manager role.",
      tags: ["webhooks"],
      responses: { "200": jsonResponse("The webhooks, newest first", WebhookList) },
    }),
    async (c) => c.json({ webhooks: await listWebhooks(c.env.DB) }),
  )
  .post(
    "/",
    dagflare({
      summary: "Register an outgoing webhook; its signing secret is in this response only. Manager role.",
      tags: ["webhooks"],
      responses: {
        "201": jsonResponse("Registered", CreateWebhookResponse),
        "400": errorResponse("A bad URL, event, filter or header, named in the message; or too many webhooks"),
      },
    }),
    json(CreateWebhookRequest),
    async (c) => c.json(await createWebhook(c.env, c.req.valid("json"), actorOf(c).name), 201),
  )
  .get(
    "/:id",
    dagflare({
      summary: "One outgoing webhook (never its secret). Manager role.",
      tags: ["webhooks"],
      responses: { "200": jsonResponse("The webhook", WebhookInfo), "404": errorResponse("No such webhook") },
    }),
    Id,
    async (c) => c.json(await getWebhook(c.env.DB, c.req.valid("param").id)),
  )
  .delete(
    "/:id",
    dagflare({
      summary: "Delete an outgoing webhook: nothing more is sent, its deliveries are forgotten. Manager role.",
      tags: ["webhooks"],
      responses: { "200": jsonResponse("The deleted webhook", WebhookInfo), "404": errorResponse("No such webhook") },
    }),
    Id,
    async (c) => {
      const { id } = c.req.valid("param");
      const deleted = await deleteWebhook(c.env.DB, id);
      await webhookStub(c.env, id).destroy();
      return c.json(deleted);
    },
  )
  .get(
    "/:id/deliveries",
    dagflare({
      summary: "A webhook's recent deliveries, newest first, each with its attempts. Manager role.",
      tags: ["webhooks"],
      responses: { "200": jsonResponse("The deliveries", DeliveryList), "404": errorResponse("No such webhook") },
    }),
    Id,
    query(z.object({ limit: z.coerce.number().int().min(1).max(KEPT_DELIVERIES).default(50) })),
    async (c) => {
      const { id } = c.req.valid("param");
      await getWebhook(c.env.DB, id);
      return c.json({ deliveries: await webhookStub(c.env, id).deliveries(c.req.valid("query").limit) });
    },
  );
