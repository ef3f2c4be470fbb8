// How a route describes itself in the OpenAPI document: a middleware placed first in the route,
// read by hono-openapi when the document is generated from the app's routes (document.ts).
// Request bodies, query strings and path parameters come from the route's validators
// (routes/validate.ts); these describe the rest.

import { type DescribeRouteOptions, describeRoute } from "hono-openapi";
import type { z } from "zod";
import { ErrorBody } from "../shared/protocol";
import { schema } from "./zod-schema";

/** An OpenAPI 3.0 object, as plain JSON (hono-openapi types 3.1 objects, which differ in places). */
type Json = Record<string, unknown>;

/** An OpenAPI operation object; `x-` fields are kept as they are. */
type Operation = Json & { summary?: string; tags?: string[]; operationId?: string; responses?: Json };

/** What dagflare adds to one of Dagu's operations. */
export interface DaguAdditions {
  /** Appended to the contract's description, starting "dagflare:". */
  description?: string;
  /** Optional properties added to the object of the 200 answer. */
  responseProperties?: Record<string, unknown>;
  /** Fields that replace the contract's (e.g. `security: []` for an open endpoint). */
  override?: Operation;
}

/**
 * One of Dagu's operations, by the contract's operationId: the document takes the contract's
 * words, parameters, request body and answers, adds dagflare's query parameters from the
 * route's validators, and `additions`.
 */
export const dagu = (operationId: string, additions: DaguAdditions = {}) =>
  describeRoute({ "x-dagu-operation": { operationId, ...additions } } as DescribeRouteOptions);

/** One of dagflare's own operations, marked `x-dagflare` in the document. */
export const dagflare = (operation: Operation & { summary: string; responses: Json }) =>
  describeRoute({ security: [{ apiToken: [] }], ...operation, "x-dagflare": true } as DescribeRouteOptions);

/** A JSON answer whose body is a zod schema's. */
export const jsonResponse = (description: string, s: z.core.$ZodType): Json => ({
  description,
  content: { "application/json": { schema: schema(s) } },
});

/** The contract's error body, for the error answers of dagflare's operations. */
export const errorResponse = (description: string) => jsonResponse(description, ErrorBody);

/** An answer with no body. */
export const emptyResponse = (description: string): Json => ({ description });
