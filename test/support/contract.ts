// Checks API responses against the Dagu v2 OpenAPI 3.0 contract.
//
// Runs in plain Node and inside workerd, where `eval` / `new Function` are forbidden: validation
// uses @cfworker/json-schema (an interpreter, no code generation) and the caller passes the YAML
// text in (workerd tests import it with Vite's `?raw` suffix), so there is no `fs` here.
//
//   const contract = createContract(yamlText);
//   contract.assert("GET", "/api/v2/dag-runs/my-dag/0193abc?tail=5", 200, body);

import { dereference, type OutputUnit, type Schema, validate } from "@cfworker/json-schema";
import { parse } from "yaml";

export interface Contract {
  /** Problems with the response, as readable strings; empty when it matches the contract. */
  check(method: string, path: string, status: number, body: unknown): string[];
  /** Throws an Error naming the operation and listing every problem `check` finds. */
  assert(method: string, path: string, status: number, body: unknown): void;
  /** The parsed OpenAPI document, with dagflare's enum extensions applied (read it, don't change it). */
  readonly document: OpenApiDocument;
}

/** The parts of an OpenAPI 3.0 document this checker reads. */
export interface OpenApiDocument {
  paths?: Record<string, Record<string, unknown> | undefined>;
  components?: { schemas?: Record<string, OpenApiSchema>; responses?: Record<string, unknown> };
  [key: string]: unknown;
}

type OpenApiSchema = Record<string, unknown>;

interface ResponseObject {
  content?: Record<string, { schema?: OpenApiSchema } | undefined>;
  [key: string]: unknown;
}

/** The prefix of every concrete request path (the contract's `servers` url ends in it). */
const API_PREFIX = "/api/v2";

/** Base URI under which the converted `components.schemas` are registered with the validator. */
const BASE_URI = "https://dagflare.invalid/contract/dagu-api-v2";

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/**
 * `format` values that are checked. OpenAPI uses `format` mostly as a type hint (int64, float,
 * double, string) or, in this contract, as `format: "regex"` meaning "matches `pattern`", which a
 * JSON Schema validator would read as "is a regular expression". Everything not listed is dropped.
 */
const CHECKED_FORMATS = new Set(["date-time", "date", "email", "uri", "uuid", "ipv4", "ipv6", "hostname"]);

/** JSON Schema draft used for validation: draft 4 ignores `$ref` siblings, as OpenAPI 3.0 does. */
const DRAFT = "4";

// ---------------------------------------------------------------------------------------------
// dagflare's extensions to the contract — THE ONE PLACE they are applied.
// dagflare reports the statuses later Dagu releases added (the design's status extension):
//   run  Status 0–8      (7 waiting, 8 rejected)         StatusLabel     + "waiting", "rejected"
//   node NodeStatus 0–9  (7 waiting, 8 rejected, 9 retrying) NodeStatusLabel + "waiting", "rejected", "retrying"
// The codes are the indexes into these lists. They deliberately restate RUN_STATUSES / STEP_STATUSES
// from src/status.ts instead of importing them, so a change there cannot silently widen the contract.
// ---------------------------------------------------------------------------------------------
const RUN_STATUS_LABELS = [
  "not_started",
  "running",
  "failed",
  "aborted",
  "succeeded",
  "queued",
  "partially_succeeded",
  "waiting",
  "rejected",
];
const NODE_STATUS_LABELS = [
  "not_started",
  "running",
  "failed",
  "aborted",
  "succeeded",
  "skipped",
  "partially_succeeded",
  "waiting",
  "rejected",
  "retrying",
];

function applyDagflareExtensions(doc: OpenApiDocument): void {
  const schemas = doc.components?.schemas ?? {};
  const patch = (name: string, values: unknown[]) => {
    const schema = schemas[name];
    if (schema === undefined) return; // a contract without it (e.g. a test's mini contract)
    if (!Array.isArray(schema.enum)) throw new Error(`contract: schema ${name} has no enum to extend`);
    const existing = schema.enum as unknown[];
    // The contract's values must stay a prefix of ours: an extension, never a reinterpretation.
    existing.forEach((v, i) => {
      if (values[i] !== v)
        throw new Error(
          `contract: ${name} enum value ${i} is ${JSON.stringify(v)}, expected ${JSON.stringify(values[i])}`,
        );
    });
    schema.enum = [...values];
  };
  patch(
    "Status",
    RUN_STATUS_LABELS.map((_, i) => i),
  );
  patch("StatusLabel", RUN_STATUS_LABELS);
  patch(
    "NodeStatus",
    NODE_STATUS_LABELS.map((_, i) => i),
  );
  patch("NodeStatusLabel", NODE_STATUS_LABELS);
  // dagflare's fifth role (later Dagu releases have it too), after Dagu's four.
  patch("UserRole", ["admin", "manager", "operator", "viewer", "developer"]);
  // Dagu's server answers a DAG that never ran with an empty dagRunId (its initial status), which
  // the contract's DAGRunId pattern does not allow; Dagu's web client relies on it (no retry button
  // without a run id). Only answers are checked here, so the empty id is allowed in them.
  const runId = schemas.DAGRunId;
  if (runId?.pattern === "^[a-zA-Z0-9_-]+$") runId.pattern = "^[a-zA-Z0-9_-]*$";
}

// ---------------------------------------------------------------------------------------------
// OpenAPI 3.0 Schema Object -> JSON Schema (draft 4 semantics)
// ---------------------------------------------------------------------------------------------

const SCHEMA_MAP_KEYS = new Set(["properties", "patternProperties"]);
const SCHEMA_KEYS = new Set(["items", "additionalProperties", "not", "additionalItems"]);
const SCHEMA_ARRAY_KEYS = new Set(["allOf", "anyOf", "oneOf"]);
/** Keywords copied verbatim (their values are data, not schemas). */
const VALUE_KEYS = new Set([
  "type",
  "enum",
  "required",
  "pattern",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "title",
  "description",
  "default",
]);
// Everything else (example, x-*, nullable, discriminator, readOnly, writeOnly, xml, externalDocs,
// deprecated, unknown keys) is dropped.

/** Converts one OpenAPI schema (and its subschemas) into a fresh JSON Schema object. */
export function toJsonSchema(schema: unknown): Schema | boolean {
  if (typeof schema === "boolean") return schema;
  if (!isObject(schema)) return {};
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$ref" && typeof value === "string") {
      out.$ref = value.startsWith("#") ? BASE_URI + value : value;
    } else if (key === "format" && typeof value === "string") {
      if (CHECKED_FORMATS.has(value)) out.format = value;
    } else if (SCHEMA_MAP_KEYS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v)]));
    } else if (SCHEMA_KEYS.has(key) && (isObject(value) || typeof value === "boolean")) {
      out[key] = toJsonSchema(value);
    } else if (SCHEMA_ARRAY_KEYS.has(key) && Array.isArray(value)) {
      out[key] = value.map(toJsonSchema);
    } else if (VALUE_KEYS.has(key)) {
      out[key] = value;
    }
  }
  // OpenAPI 3.0 (draft-4 style) boolean exclusive bounds are what draft 4 expects: keep as is.
  if (schema.nullable === true) return allowNull(out);
  return out;
}

/** `nullable: true` -> also accept null. */
function allowNull(s: Schema): Schema {
  if (s.$ref !== undefined || s.allOf || s.anyOf || s.oneOf || s.not || s.type === undefined) {
    // A $ref (whose siblings draft 4 ignores) or a composition: null is an alternative to the whole.
    return { anyOf: [{ type: "null" }, s] };
  }
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const out: Schema = { ...s, type: types.includes("null") ? types : [...types, "null"] };
  if (Array.isArray(s.enum) && !s.enum.includes(null)) out.enum = [...s.enum, null];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Path templates
// ---------------------------------------------------------------------------------------------

interface Template {
  template: string;
  /** Literal segment, or null for a `{parameter}`. */
  segments: (string | null)[];
  item: Record<string, unknown>;
}

function compileTemplates(doc: OpenApiDocument): Template[] {
  const out: Template[] = [];
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    if (!isObject(item)) continue;
    const segments = splitPath(template).map((s) => (/^\{[^}]+\}$/.test(s) ? null : s));
    out.push({ template, segments, item });
  }
  return out;
}

function splitPath(p: string): string[] {
  return p.split("/").filter((s) => s !== "");
}

/** Removes scheme/host, query string, fragment and the /api/v2 prefix; decodes segments. */
function normalisePath(path: string): string[] {
  let p = path;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) p = new URL(p).pathname;
  p = p.replace(/[?#].*$/, "");
  if (p === API_PREFIX || p.startsWith(`${API_PREFIX}/`)) p = p.slice(API_PREFIX.length);
  return splitPath(p).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
}

/** The best template for the path: literal segments win over parameters, leftmost first. */
function matchTemplate(templates: Template[], segments: string[]): Template | undefined {
  let best: Template | undefined;
  for (const t of templates) {
    if (t.segments.length !== segments.length) continue;
    if (!t.segments.every((s, i) => s === null || s === segments[i])) continue;
    if (!best || moreSpecific(t, best)) best = t;
  }
  return best;
}

function moreSpecific(a: Template, b: Template): boolean {
  for (let i = 0; i < a.segments.length; i++) {
    const aLiteral = a.segments[i] !== null;
    const bLiteral = b.segments[i] !== null;
    if (aLiteral !== bLiteral) return aLiteral;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

/** What to do with a response body, once per operation+status. */
type Plan =
  | { kind: "error"; message: string }
  | { kind: "empty"; label: string }
  | { kind: "schema"; label: string; schema: Schema };

export function createContract(openApiYamlText: string): Contract {
  const document = parse(openApiYamlText) as OpenApiDocument;
  if (!isObject(document) || !isObject(document.paths)) {
    throw new Error("contract: the text is not an OpenAPI document with paths");
  }
  applyDagflareExtensions(document);

  const templates = compileTemplates(document);
  const plans = new Map<string, Plan>();
  let lookup: Record<string, Schema | boolean> | undefined;

  /** The converted components, registered once (lazily) in a lookup every response schema shares. */
  function sharedLookup(): Record<string, Schema | boolean> {
    if (!lookup) {
      const schemas = document.components?.schemas ?? {};
      const root: Schema = {
        $id: BASE_URI,
        components: {
          schemas: Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, toJsonSchema(v)])),
        },
      };
      lookup = dereference(root);
    }
    return lookup;
  }

  function plan(method: string, path: string, status: number): Plan {
    const m = method.toLowerCase();
    const template = matchTemplate(templates, normalisePath(path));
    if (!template) return { kind: "error", message: `no path in the contract matches ${method.toUpperCase()} ${path}` };
    const key = `${m} ${template.template} ${status}`;
    const cached = plans.get(key);
    if (cached) return cached;
    const made = makePlan(m, template, status);
    plans.set(key, made);
    return made;
  }

  function makePlan(m: string, template: Template, status: number): Plan {
    const op = `${m.toUpperCase()} ${template.template}`;
    const operation = HTTP_METHODS.has(m) ? template.item[m] : undefined;
    if (!isObject(operation)) return { kind: "error", message: `no operation ${op} in the contract` };
    const responses = isObject(operation.responses) ? operation.responses : {};
    const code = String(status);
    const rangeKey = `${code[0]}XX`;
    // `default` stands in for undeclared statuses, except success ones: in this contract every
    // `default` is the generic error response, so an undeclared 2xx is contract drift to report.
    const found =
      responses[code] ??
      responses[rangeKey] ??
      responses[rangeKey.toLowerCase()] ??
      (status >= 200 && status < 300 ? undefined : responses.default);
    if (found === undefined) return { kind: "error", message: `no response ${status} for ${op} in the contract` };
    const response = resolveResponse(document, found);
    if (!response) return { kind: "error", message: `response ${status} for ${op} could not be resolved` };
    const operationId = typeof operation.operationId === "string" ? ` (${operation.operationId})` : "";
    const label = `${op}${operationId} → ${status}`;

    const content = isObject(response.content) ? response.content : undefined;
    if (!content || Object.keys(content).length === 0) return { kind: "empty", label };
    const media =
      content["application/json"] ??
      Object.entries(content).find(([type]) => /[/+]json\b/.test(type))?.[1] ??
      Object.values(content)[0];
    if (!isObject(media) || media.schema === undefined) return { kind: "schema", label, schema: {} };

    const schema = toJsonSchema(media.schema);
    const root: Schema = typeof schema === "boolean" ? (schema ? {} : { not: {} }) : schema;
    // A distinct $id per response, so it can join the shared lookup without clashing.
    root.$id = `${BASE_URI}/responses/${encodeURIComponent(`${m}${template.template}`)}/${status}`;
    dereference(root, sharedLookup());
    return { kind: "schema", label, schema: root };
  }

  function checkWithLabel(
    method: string,
    path: string,
    status: number,
    body: unknown,
  ): { label: string; errors: string[] } {
    const p = plan(method, path, status);
    const fallbackLabel = `${method.toUpperCase()} ${path} → ${status}`;
    switch (p.kind) {
      case "error":
        return { label: fallbackLabel, errors: [p.message] };
      case "empty":
        return isEmptyBody(body)
          ? { label: p.label, errors: [] }
          : { label: p.label, errors: [`the contract declares no content, but the body is ${preview(body)}`] };
      case "schema": {
        if (body === undefined) return { label: p.label, errors: ["the contract declares a body, but there is none"] };
        let result: { valid: boolean; errors: OutputUnit[] };
        try {
          result = validate(body, p.schema, DRAFT, sharedLookup(), false);
        } catch (err) {
          return {
            label: p.label,
            errors: [`cannot validate: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`],
          };
        }
        return { label: p.label, errors: result.valid ? [] : describe(result.errors) };
      }
    }
  }

  return {
    document,
    check(method, path, status, body) {
      return checkWithLabel(method, path, status, body).errors;
    },
    assert(method, path, status, body) {
      const { label, errors } = checkWithLabel(method, path, status, body);
      if (errors.length === 0) return;
      throw new Error(
        `response does not match the contract for ${label} (${method.toUpperCase()} ${path}):\n` +
          errors.map((e) => `  - ${e}`).join("\n") +
          `\nbody: ${preview(body, 2000)}`,
      );
    },
  };
}

/** The values of the contract's `ErrorCode` enum. */
export function errorCodes(contract: Contract): string[] {
  const values = contract.document.components?.schemas?.ErrorCode?.enum;
  if (!Array.isArray(values)) throw new Error("contract: no ErrorCode enum in components.schemas");
  return values.map(String);
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

function resolveResponse(doc: OpenApiDocument, response: unknown, depth = 0): ResponseObject | undefined {
  if (!isObject(response)) return undefined;
  const ref = response.$ref;
  if (typeof ref !== "string") return response as ResponseObject;
  if (depth > 10 || !ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    node = isObject(node) ? node[part] : undefined;
  }
  return resolveResponse(doc, node, depth + 1);
}

/** Leaf errors only (not "a subschema had errors" wrappers), as "<instance path>: <message>". */
function describe(units: OutputUnit[]): string[] {
  const leaves = units.filter((u) => !WRAPPER_KEYWORDS.has(u.keyword));
  const chosen = leaves.length > 0 ? leaves : units;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const u of chosen) {
    const where = u.instanceLocation.replace(/^#/, "") || "/";
    const line = `${where}: ${u.error}`;
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  return out;
}

/** Keywords whose errors only say that something nested failed; the nested error says what. */
const WRAPPER_KEYWORDS = new Set([
  "$ref",
  "allOf",
  "properties",
  "items",
  "additionalItems",
  "additionalProperties",
  "patternProperties",
]);

function isEmptyBody(body: unknown): boolean {
  return body === null || body === undefined || body === "";
}

function preview(body: unknown, max = 200): string {
  let s: string;
  try {
    s = body === undefined ? "undefined" : JSON.stringify(body);
  } catch {
    s = String(body);
  }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
