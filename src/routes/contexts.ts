// /contexts: named variable sets a run can be started with (src/inputs/contexts.ts). Reading
// them takes the viewer role; writing them, the developer role (they shape what runs do).
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import {
  ContextBody,
  ContextDetails,
  ContextInfo,
  ContextList,
  CreateContextRequest,
  createContext,
  deleteContext,
  getContext,
  listContexts,
  replaceContext,
} from "../inputs/contexts";
import { INPUT_NAME } from "../inputs/values";
import { dagflare, emptyResponse, errorResponse, jsonResponse } from "../openapi/route-docs";
import { json, param, pathSegment } from "./validate";

const NameParam = z.object({
  name: pathSegment(INPUT_NAME, (v) => `invalid context name "${v}": letters, digits, _ . - (at most 64)`),
});

export const contextsRoute = new Hono<{ Bindings: Env }>()
  .get(
    "/",
    dagflare({
      summary: "List contexts, by name",
      tags: ["contexts"],
      responses: { "200": jsonResponse("The contexts", ContextList) },
    }),
    async (c) => c.json({ contexts: await listContexts(c.env.DB) }),
  )
  .post(
    "/",
    dagflare({
      summary: "Create a context: named variables a run can be started with, optionally extending another",
      tags: ["contexts"],
      responses: {
        "201": jsonResponse("Created", ContextInfo),
        "400": errorResponse("A bad name or variable, an unknown parent, a cycle, or a chain too deep"),
        "409": errorResponse("The name is taken"),
      },
    }),
    json(CreateContextRequest),
    async (c) => {
      const { name, ...body } = c.req.valid("json");
      return c.json(await createContext(c.env.DB, name, body), 201);
    },
  )
  .get(
    "/:name",
    dagflare({
      summary: "A context, with `resolved`: the variables a run started with it gets",
      tags: ["contexts"],
      responses: { "200": jsonResponse("The context", ContextDetails), "404": errorResponse("No such context") },
    }),
    param(NameParam),
    async (c) => c.json(await getContext(c.env.DB, c.req.valid("param").name)),
  )
  .put(
    "/:name",
    dagflare({
      summary: "Replace a context's description, variables and parent; runs already started keep their values",
      tags: ["contexts"],
      responses: {
        "200": jsonResponse("The context", ContextInfo),
        "400": errorResponse("A bad variable, an unknown parent, a cycle, or a chain too deep"),
        "404": errorResponse("No such context"),
      },
    }),
    param(NameParam),
    json(ContextBody),
    async (c) => c.json(await replaceContext(c.env.DB, c.req.valid("param").name, c.req.valid("json"))),
  )
  .delete(
    "/:name",
    dagflare({
      summary: "Delete a context that no other context extends",
      tags: ["contexts"],
      responses: {
        "204": emptyResponse("Deleted"),
        "404": errorResponse("No such context"),
        "409": errorResponse("Another context extends it"),
      },
    }),
    param(NameParam),
    async (c) => {
      await deleteContext(c.env.DB, c.req.valid("param").name);
      return c.body(null, 204);
    },
  );
