// The whole API as one OpenAPI 3.0 document, served at GET /openapi.json: Dagu's v2 contract
// (a JSON copy in dagu-api-v2.json, checked against the contract by test/unit/openapi-copy.test.ts)
// less the operations dagflare does not serve, with dagflare's status codes, its additions
// (additions.ts) and what it adds to Dagu's own operations (extended.ts).

import { VERSION } from "../routes/system";
import { RUN_STATUSES, STEP_STATUSES } from "../status";
import { extendRoles } from "./access";
import { additions } from "./additions";
import contract from "./dagu-api-v2.json";
import { SCHEMA_EXTENSIONS } from "./extended";

type Json = Record<string, any>;

/**
 * Operations of the contract dagflare does not serve (a request gets 404 "no route"): the host
 * resource history. test/workers/openapi.test.ts checks both halves of this list.
 */
export const NOT_SERVED: ReadonlyArray<[string, string]> = [["get", "/services/resources/history"]];

const HTTP_METHODS = ["get", "put", "post", "delete", "patch"];

let cached: Json | undefined;

export function openApiDocument(): Json {
  cached ??= build();
  return cached;
}

function build(): Json {
  const doc: Json = structuredClone(contract);
  for (const [method, path] of NOT_SERVED) {
    delete doc.paths[path]?.[method];
    if (!HTTP_METHODS.some((m) => doc.paths[path]?.[m])) delete doc.paths[path];
  }
  doc.tags = [
    ...doc.tags,
    { name: "api-keys", description: "dagflare: API keys with a role, for scripts and CI" },
    { name: "runners", description: "dagflare: the runner protocol (runner tokens only)" },
    { name: "runner-tokens", description: "dagflare: runner tokens" },
  ];
  extendStatuses(doc.components.schemas);
  extendRoles(doc.components.schemas);
  for (const [name, props] of Object.entries(SCHEMA_EXTENSIONS)) addProperties(doc.components.schemas[name], props);
  for (const [path, ops] of Object.entries(additions())) {
    doc.paths[path] ??= {};
    for (const [method, op] of Object.entries(ops)) {
      const base = doc.paths[path][method];
      doc.paths[path][method] = base ? extend(base, op) : { ...op, "x-dagflare": true };
    }
  }
  doc.paths["/openapi.json"] = {
    get: {
      summary: "This document",
      operationId: "getOpenAPIDocument",
      tags: ["system"],
      security: [],
      responses: {
        "200": { description: "The OpenAPI document of the whole API", content: { "application/json": {} } },
      },
      "x-dagflare": true,
    },
  };
  doc.paths["/health"].get.security = [];
  doc.components.securitySchemes = {
    apiToken: {
      type: "http",
      scheme: "bearer",
      description:
        "A user credential: a session token from POST /auth/login, an API key (POST /api-keys), or the operator's DAGFLARE_API_TOKEN. What it may call depends on its role (README, roles table).",
    },
    runnerToken: {
      type: "http",
      scheme: "bearer",
      description: "DAGFLARE_RUNNER_TOKEN, or a token created with POST /runner-tokens; opens only /runners.",
    },
  };
  doc.security = [{ apiToken: [] }];
  doc.servers = [{ url: "/api/v2", description: "This server" }];
  doc.info = {
    title: "dagflare API",
    version: VERSION,
    description:
      "Dagu's v2 REST API as dagflare serves it, with dagflare's additions (marked `x-dagflare`, or described as `dagflare:` on Dagu's operations). Errors are `{code, message, details?}`.",
    "x-contract": { title: contract.info.title, version: contract.info.version, license: contract.info.license },
  };
  return doc;
}

/** Dagu's operation with what dagflare adds: its words, its parameters, its request body, its answer's fields. */
function extend(base: Json, op: Json): Json {
  const { "x-response-properties": responseProps, summary, parameters, requestBody } = op;
  const merged: Json = {
    ...base,
    description: [base.description, summary].filter(Boolean).join("\n\n"),
    "x-dagflare-extended": true,
  };
  if (parameters) {
    const has = new Set((base.parameters ?? []).map((p: Json) => `${p.in}:${p.name}`));
    merged.parameters = [...(base.parameters ?? []), ...parameters.filter((p: Json) => !has.has(`${p.in}:${p.name}`))];
  }
  if (requestBody) merged.requestBody = requestBody;
  if (responseProps) {
    const ok = structuredClone(base.responses["200"]);
    const media = ok.content["application/json"];
    media.schema = media.schema.$ref
      ? { allOf: [media.schema, { type: "object", properties: responseProps }] }
      : { ...media.schema, properties: { ...media.schema.properties, ...responseProps } };
    merged.responses = { ...base.responses, "200": ok };
  }
  return merged;
}

/** Optional properties on an object schema, or on the object part of an allOf. */
function addProperties(schema: Json, props: Json): void {
  const target = schema.properties ? schema : [...(schema.allOf ?? [])].reverse().find((s: Json) => s.properties);
  if (!target) throw new Error("openapi: no object schema to extend");
  Object.assign(target.properties, props);
}

/** dagflare's codes past Dagu's (the ones later Dagu releases use): 7 waiting, 8 rejected, 9 retrying. */
function extendStatuses(schemas: Json): void {
  schemas.Status.enum = RUN_STATUSES.map((_s, i) => i);
  schemas.StatusLabel.enum = [...RUN_STATUSES];
  schemas.NodeStatus.enum = STEP_STATUSES.map((_s, i) => i);
  schemas.NodeStatusLabel.enum = [...STEP_STATUSES];
  for (const s of [schemas.Status, schemas.NodeStatus]) delete s["x-enum-varnames"];
  schemas.Status.description += '\n7: "Waiting" (dagflare: a step waits for approval)\n8: "Rejected"';
  schemas.NodeStatus.description += '\n7: "Waiting"\n8: "Rejected"\n9: "Retrying"';
}
