// Request validation at the edge: JSON bodies, query strings and path parameters through
// @hono/zod-validator, with one hook that turns zod's issues into the contract's error body
// naming the field at fault. Each validator also carries its schema for the OpenAPI document
// (hono-openapi reads it from the route), so a route's input is described where it is checked.
import { zValidator } from "@hono/zod-validator";
import type { Context, MiddlewareHandler } from "hono";
import { uniqueSymbol } from "hono-openapi";
import { z } from "zod";
import { AppError } from "../errors";
import { schema as openApiSchema } from "../openapi/zod-schema";
import { type InputTarget, parseBody, refuse } from "../parse-input";

type Target = InputTarget;

/** Marks a validator with its schema, as hono-openapi's own validator does, for the document. */
function documented<M extends MiddlewareHandler>(middleware: M, target: Target, schema: z.core.$ZodType): M {
  return Object.assign(middleware, {
    [uniqueSymbol]: { target, toOpenAPISchema: async () => ({ schema: openApiSchema(schema) }) },
  });
}

/**
 * Reads the body once, before the validator: an empty body is `{}` (Dagu's web client posts
 * bodiless requests with Content-Length: 0), a body that is not JSON is refused with the
 * parser's words, and a JSON body sent under another media type is refused rather than read
 * as empty.
 */
async function readBody(c: Context): Promise<void> {
  const text = await c.req.text();
  if (text === "") {
    // Hono's JSON reader parses the cached text, which it keeps as a promise (its type says
    // string): an empty body reads as an empty object.
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve("{}");
  } else {
    try {
      JSON.parse(text);
    } catch (err) {
      throw new AppError("bad_request", 400, `request body is not valid JSON: ${(err as Error).message}`);
    }
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!/^application\/([\w.-]+\+)?json$/.test(type)) {
      throw new AppError("bad_request", 415, "send the request body as JSON, with Content-Type: application/json", {
        field: "Content-Type",
      });
    }
  }
}

function validator<T extends Target, S extends z.core.$ZodType>(target: T, schema: S) {
  return documented(
    zValidator(target, schema, (result) => {
      if (!result.success) refuse(target, result.error.issues);
    }),
    target,
    schema,
  );
}

/** The JSON body, validated: `c.req.valid("json")`. */
export function json<S extends z.core.$ZodType>(schema: S) {
  const validate = validator("json", schema);
  const middleware: typeof validate = async (c, next) => {
    await readBody(c);
    return validate(c, next);
  };
  return documented(middleware, "json", schema);
}

/** The query string, validated: `c.req.valid("query")`. */
export const query = <S extends z.core.$ZodType>(schema: S) => validator("query", schema);

/** The path parameters, validated: `c.req.valid("param")`. */
export const param = <S extends z.core.$ZodType>(schema: S) => validator("param", schema);

/**
 * The older helper, for routes that read a body by hand (the runner protocol's): parses the
 * body (empty is `{}`) and validates it with the same error body as `json()`.
 */
export async function readJson<S extends z.core.$ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  const text = await c.req.text();
  try {
    raw = text === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new AppError("bad_request", 400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  return parseBody(schema, raw);
}

/** A path segment that must match a pattern; `message` says what is wrong with the value given. */
export const pathSegment = (pattern: RegExp, message: (value: string) => string) =>
  z.string().regex(pattern, { error: (iss) => message(String(iss.input)) });

/** A query string parsed by hand (the runner's socket upgrade), with the same error body as `query()`. */
export function readQuery<S extends z.core.$ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = z.safeParse(schema, c.req.query());
  if (!parsed.success) refuse("query", parsed.error.issues);
  return parsed.data;
}
