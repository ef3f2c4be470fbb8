// The one shape of /contexts and /parameter-sets: named sets of values a run can be started with
// (src/inputs/), listed, created, read, replaced and deleted by name. Each resource says what
// differs (its words, its schemas, its store); the routes, their validation and their answers
// are the same. Reading takes the viewer role, writing the developer role (route-roles.ts).
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { INPUT_NAME, InputName } from "../inputs/values";
import { dagflare, emptyResponse, errorResponse, jsonResponse } from "../openapi/route-docs";
import { json, param, pathSegment } from "./validate";

/** A resource's rules over D1, by name; each throws AppError for a name missing or taken. */
export interface InputSetStore<Body> {
  list(d1: D1Database): Promise<unknown[]>;
  get(d1: D1Database, name: string): Promise<unknown>;
  create(d1: D1Database, name: string, body: Body): Promise<unknown>;
  replace(d1: D1Database, name: string, body: Body): Promise<unknown>;
  remove(d1: D1Database, name: string): Promise<void>;
}

export interface InputSetResource<B extends z.ZodObject> {
  /** "context": in summaries and messages. */
  noun: string;
  /** "contexts": in summaries. */
  plural: string;
  /** The OpenAPI tag. */
  tag: string;
  /** The key of the list in GET's answer (`contexts`, `parameterSets`). */
  listKey: string;
  /** What a set is, after "Create a <noun>: ". */
  what: string;
  /** What PUT replaces, after "Replace a <noun>'s ". */
  fields: string;
  /** The 400s of create and replace. */
  badCreate: string;
  badReplace: string;
  getSummary: string;
  deleteSummary: string;
  /** Why a delete may be refused with 409, if it may be. */
  deleteConflict?: string;
  schemas: { body: B; info: z.ZodType; details: z.ZodType; list: z.ZodType };
  store: InputSetStore<z.output<B>>;
}

export function inputSetRoute<B extends z.ZodObject>(r: InputSetResource<B>) {
  const NameParam = z.object({
    name: pathSegment(INPUT_NAME, (v) => `invalid ${r.noun} name "${v}": letters, digits, _ . - (at most 64)`),
  });
  const Create = r.schemas.body.extend({ name: InputName });
  const tags = [r.tag];
  const missing = errorResponse(`No such ${r.noun}`);
  return new Hono<{ Bindings: Env }>()
    .get(
      "/",
      dagflare({
        summary: `List ${r.plural}, by name`,
        tags,
        responses: { "200": jsonResponse(`The ${r.plural}`, r.schemas.list) },
      }),
      async (c) => c.json({ [r.listKey]: await r.store.list(c.env.DB) }),
    )
    .post(
      "/",
      dagflare({
        summary: `Create a ${r.noun}: ${r.what}`,
        tags,
        responses: {
          "201": jsonResponse("Created", r.schemas.info),
          "400": errorResponse(r.badCreate),
          "409": errorResponse("The name is taken"),
        },
      }),
      json(Create),
      async (c) => {
        const { name, ...body } = c.req.valid("json") as { name: string } & z.output<B>;
        return c.json(await r.store.create(c.env.DB, name, body as z.output<B>), 201);
      },
    )
    .get(
      "/:name",
      dagflare({
        summary: r.getSummary,
        tags,
        responses: { "200": jsonResponse(`The ${r.noun}`, r.schemas.details), "404": missing },
      }),
      param(NameParam),
      async (c) => c.json(await r.store.get(c.env.DB, c.req.valid("param").name)),
    )
    .put(
      "/:name",
      dagflare({
        summary: `Replace a ${r.noun}'s ${r.fields}; runs already started keep their values`,
        tags,
        responses: {
          "200": jsonResponse(`The ${r.noun}`, r.schemas.info),
          "400": errorResponse(r.badReplace),
          "404": missing,
        },
      }),
      param(NameParam),
      json(r.schemas.body),
      async (c) =>
        c.json(await r.store.replace(c.env.DB, c.req.valid("param").name, c.req.valid("json") as z.output<B>)),
    )
    .delete(
      "/:name",
      dagflare({
        summary: r.deleteSummary,
        tags,
        responses: {
          "204": emptyResponse("Deleted"),
          "404": missing,
          ...(r.deleteConflict && { "409": errorResponse(r.deleteConflict) }),
        },
      }),
      param(NameParam),
      async (c) => {
        await r.store.remove(c.env.DB, c.req.valid("param").name);
        return c.body(null, 204);
      },
    );
}
