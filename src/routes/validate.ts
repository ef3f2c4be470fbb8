// Request validation at the edge: JSON bodies and query strings through zod, with the field at
// fault in the error.
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../errors";

function describe(issues: z.core.$ZodIssue[]): { message: string; fields: string[] } {
  const parts = issues.map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`);
  return { message: parts.join("; "), fields: issues.map((i) => i.path.join(".")) };
}

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  const text = await c.req.text();
  try {
    raw = text === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new AppError("bad_request", 400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  return parseBody(schema, raw);
}

/** A parsed body (HTTP, or a runner's socket message), or 400 naming the fields at fault. */
export function parseBody<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { message, fields } = describe(parsed.error.issues);
    throw new AppError("bad_request", 400, message, { fields });
  }
  return parsed.data;
}

export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    const { message, fields } = describe(parsed.error.issues);
    throw new AppError("bad_request", 400, `query: ${message}`, { fields });
  }
  return parsed.data;
}
