// The whole API as one OpenAPI 3.0 document, served at GET /openapi.json and generated from
// the app's routes (hono-openapi walks them): an operation is in the document exactly when a
// route serves it. Each route describes itself (route-docs.ts) and its validators describe its
// input; Dagu's operations take their words, parameters, bodies and answers from Dagu's v2
// contract (a JSON copy in dagu-api-v2.json, checked against the contract by
// test/unit/openapi-copy.test.ts), with what dagflare adds to them.
import type { Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import { VERSION } from "../routes/system";
import { ErrorBody } from "../shared/protocol";
import { RUN_STATUSES, STEP_STATUSES } from "../status";
import { extendRoles } from "./access";
import contract from "./dagu-api-v2.json";
import { SCHEMA_EXTENSIONS } from "./extended";
import type { DaguAdditions } from "./route-docs";
import { schema } from "./zod-schema";

// An OpenAPI document is free-form JSON here.
type Json = Record<string, any>;

const OPERATIONS: Record<string, { path: string; method: string; op: Json }> = Object.fromEntries(
  Object.entries(contract.paths as Json).flatMap(([path, ops]) =>
    Object.entries(ops as Json).flatMap(([method, op]) =>
      op?.operationId ? [[op.operationId as string, { path, method, op: op as Json }]] : [],
    ),
  ),
);

/** The contract's operation with this id (throws on a typo, so the document never builds wrong). */
export function daguOperation(operationId: string): { path: string; method: string; op: Json } {
  const found = OPERATIONS[operationId];
  if (!found) throw new Error(`openapi: no operation ${operationId} in Dagu's contract`);
  return found;
}

const cached = new WeakMap<object, Promise<Json>>();

const V2_SERVER = { url: "/api/v2", description: "This server" };

/** The document of `api` (the app mounted at /api/v2), built once per app. */
export function openApiDocument(api: Hono<any, any, any>): Promise<Json> {
  let doc = cached.get(api);
  if (!doc) {
    doc = build(api);
    cached.set(api, doc);
  }
  return doc;
}

async function build(api: Hono<any, any, any>): Promise<Json> {
  const components: Json = structuredClone(contract.components);
  extendStatuses(components.schemas);
  extendRoles(components.schemas);
  for (const [name, props] of Object.entries(SCHEMA_EXTENSIONS)) addProperties(components.schemas[name], props);
  components.securitySchemes = {
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
    webhookToken: {
      type: "http",
      scheme: "bearer",
      description:
        "A DAG's webhook token (POST /dags/{fileName}/webhook-tokens); opens only POST /webhooks/{fileName}.",
    },
  };
  const generated = (await generateSpecs(api, {
    documentation: { openapi: "3.0.3", components },
    // Its default leaves out paths that look like files, as /openapi.json does.
    excludeStaticFile: false,
    defaultValidationErrorResponse: {
      description: "The request is not valid: the message names the field at fault",
      content: { "application/json": { schema: schema(ErrorBody) } },
    },
  })) as Json;
  const paths: Json = {};
  for (const [path, ops] of Object.entries(generated.paths as Json)) {
    for (const [method, op] of Object.entries(ops as Json)) {
      paths[path] ??= {};
      paths[path][method] = op["x-dagu-operation"] ? daguWithAdditions(path, method, op) : op;
    }
  }
  // The runner protocol is served under /api/v2 only (src/app.ts): say so where it is listed.
  for (const [path, item] of Object.entries(paths)) {
    if (path === "/runners" || path.startsWith("/runners/")) (item as Json).servers = [V2_SERVER];
  }
  const usedTags = new Set(
    Object.values(paths).flatMap((ops: Json) => Object.values(ops).flatMap((o) => o.tags ?? [])),
  );
  return {
    openapi: "3.0.3",
    info: {
      title: "dagflare API",
      version: VERSION,
      description:
        "Dagu's v2 REST API as dagflare serves it, with dagflare's additions (marked `x-dagflare`, or described as `dagflare:` on Dagu's operations). Errors are `{code, message, details?}`.",
      "x-contract": { title: contract.info.title, version: contract.info.version, license: contract.info.license },
    },
    servers: [
      V2_SERVER,
      {
        url: "/api/v1",
        description:
          "This server, the same operations under current Dagu's prefix (the runner protocol only under /api/v2)",
      },
    ],
    security: [{ apiToken: [] }],
    tags: [
      ...contract.tags.filter((t) => usedTags.has(t.name)),
      { name: "api-keys", description: "dagflare: API keys with a role, for scripts and CI" },
      { name: "runners", description: "dagflare: the runner protocol (runner tokens only)" },
      { name: "runner-tokens", description: "dagflare: runner tokens" },
      { name: "contexts", description: "dagflare: named variable sets a run can be started with" },
      { name: "parameter-sets", description: "dagflare: named params a run can be started with" },
      { name: "webhooks", description: "dagflare: webhooks in, starting a DAG's runs with its own tokens" },
    ],
    paths,
    components: generated.components,
  };
}

/**
 * Dagu's operation as the contract has it, with dagflare's additions: query parameters its
 * validators take that the contract does not list, the extra answer fields and words.
 */
function daguWithAdditions(path: string, method: string, generated: Json): Json {
  const additions = generated["x-dagu-operation"] as DaguAdditions & { operationId: string };
  const { path: contractPath, method: contractMethod, op: base } = daguOperation(additions.operationId);
  if (contractPath !== path || contractMethod !== method) {
    throw new Error(`openapi: ${method} ${path} is described as ${contractMethod} ${contractPath}`);
  }
  const op: Json = structuredClone(base);
  const has = new Set((op.parameters ?? []).map(parameterKey));
  const extra = (generated.parameters ?? []).filter((p: Json) => p.in !== "path" && !has.has(parameterKey(p)));
  if (extra.length) op.parameters = [...(op.parameters ?? []), ...extra];
  const bodyExtended = extendBody(op, generated);
  if (additions.description) op.description = [op.description, additions.description].filter(Boolean).join("\n\n");
  if (additions.responseProperties) {
    const media = op.responses["200"].content["application/json"];
    media.schema = media.schema.$ref
      ? { allOf: [media.schema, { type: "object", properties: additions.responseProperties }] }
      : { ...media.schema, properties: { ...media.schema.properties, ...additions.responseProperties } };
  }
  if (additions.description || additions.responseProperties || extra.length || bodyExtended) {
    op["x-dagflare-extended"] = true;
  }
  return { ...op, ...additions.override };
}

/**
 * The fields the route's JSON validator takes beyond the contract's request body, added to it
 * (beside a $ref, through allOf). True when there were any.
 */
function extendBody(op: Json, generated: Json): boolean {
  const media = op.requestBody?.content?.["application/json"];
  const taken: Json | undefined = generated.requestBody?.content?.["application/json"]?.schema?.properties;
  if (!media?.schema || !taken) return false;
  const ref: string | undefined = media.schema.$ref;
  const known: Json =
    (ref ? (contract.components.schemas as Json)[ref.split("/").pop() ?? ""] : media.schema)?.properties ?? {};
  const extra = Object.fromEntries(Object.entries(taken).filter(([name]) => !(name in known)));
  if (!Object.keys(extra).length) return false;
  media.schema = ref
    ? { allOf: [media.schema, { type: "object", properties: extra }] }
    : { ...media.schema, properties: { ...media.schema.properties, ...extra } };
  return true;
}

/** A parameter's `in` and `name`, through the contract's $ref when it is one. */
function parameterKey(p: Json): string {
  const resolved = p.$ref ? (contract.components.parameters as Json)[p.$ref.split("/").pop()] : p;
  return `${resolved?.in}:${resolved?.name}`;
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
