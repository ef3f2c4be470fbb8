// GET /dag-runs/{name}/{dagRunId}/inputs: the context and parameter set a run was started with,
// and the values they resolved to at its start (which a retry keeps; src/inputs/start-inputs.ts).
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { runInputsOf } from "../inputs/start-inputs";
import { dagflare, errorResponse, jsonResponse } from "../openapi/route-docs";
import { findRun } from "./find-run";

export const RunInputs = z.object({
  context: z.string().optional(),
  parameterSet: z.string().optional(),
  variables: z.record(z.string(), z.string()).describe("The context's variables as the run got them."),
  params: z.record(z.string(), z.string()).describe("The parameter set's params as the run got them."),
});

export const runInputsRoute = new Hono<{ Bindings: Env }>().get(
  "/:name/:dagRunId/inputs",
  dagflare({
    summary: "The context and parameter set the run was started with, and their values at its start",
    tags: ["contexts"],
    responses: {
      "200": jsonResponse("What the run started with (empty maps: neither)", RunInputs),
      "404": errorResponse("No such run"),
    },
  }),
  async (c) => {
    const row = await findRun(c.env, c.req.param("name"), c.req.param("dagRunId"));
    const got = await runInputsOf(c.env.DB, row.runId);
    return c.json({
      ...(got?.context && { context: got.context }),
      ...(got?.parameterSet && { parameterSet: got.parameterSet }),
      variables: JSON.parse(got?.variables ?? "{}") as Record<string, string>,
      params: JSON.parse(got?.params ?? "{}") as Record<string, string>,
    } satisfies z.infer<typeof RunInputs>);
  },
);
