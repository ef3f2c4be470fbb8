// /parameter-sets: named params a run can be started with (src/inputs/parameter-sets.ts).
// Reading them takes the viewer role; writing them, the developer role.
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import {
  CreateParameterSetRequest,
  createParameterSet,
  deleteParameterSet,
  getParameterSet,
  listParameterSets,
  ParameterSetBody,
  ParameterSetInfo,
  ParameterSetList,
  replaceParameterSet,
} from "../inputs/parameter-sets";
import { INPUT_NAME } from "../inputs/values";
import { dagflare, emptyResponse, errorResponse, jsonResponse } from "../openapi/route-docs";
import { json, param, pathSegment } from "./validate";

const NameParam = z.object({
  name: pathSegment(INPUT_NAME, (v) => `invalid parameter set name "${v}": letters, digits, _ . - (at most 64)`),
});

export const parameterSetsRoute = new Hono<{ Bindings: Env }>()
  .get(
    "/",
    dagflare({
      summary: "List parameter sets, by name",
      tags: ["parameter-sets"],
      responses: { "200": jsonResponse("The parameter sets", ParameterSetList) },
    }),
    async (c) => c.json({ parameterSets: await listParameterSets(c.env.DB) }),
  )
  .post(
    "/",
    dagflare({
      summary: "Create a parameter set: named params a run can be started with",
      tags: ["parameter-sets"],
      responses: {
        "201": jsonResponse("Created", ParameterSetInfo),
        "400": errorResponse("A bad name or param"),
        "409": errorResponse("The name is taken"),
      },
    }),
    json(CreateParameterSetRequest),
    async (c) => {
      const { name, ...body } = c.req.valid("json");
      return c.json(await createParameterSet(c.env.DB, name, body), 201);
    },
  )
  .get(
    "/:name",
    dagflare({
      summary: "A parameter set",
      tags: ["parameter-sets"],
      responses: { "200": jsonResponse("The parameter set", ParameterSetInfo), "404": errorResponse("No such set") },
    }),
    param(NameParam),
    async (c) => c.json(await getParameterSet(c.env.DB, c.req.valid("param").name)),
  )
  .put(
    "/:name",
    dagflare({
      summary: "Replace a parameter set's description and params; runs already started keep their values",
      tags: ["parameter-sets"],
      responses: {
        "200": jsonResponse("The parameter set", ParameterSetInfo),
        "400": errorResponse("A bad param"),
        "404": errorResponse("No such set"),
      },
    }),
    param(NameParam),
    json(ParameterSetBody),
    async (c) => c.json(await replaceParameterSet(c.env.DB, c.req.valid("param").name, c.req.valid("json"))),
  )
  .delete(
    "/:name",
    dagflare({
      summary: "Delete a parameter set",
      tags: ["parameter-sets"],
      responses: { "204": emptyResponse("Deleted"), "404": errorResponse("No such set") },
    }),
    param(NameParam),
    async (c) => {
      await deleteParameterSet(c.env.DB, c.req.valid("param").name);
      return c.body(null, 204);
    },
  );
