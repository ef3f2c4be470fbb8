// Input checked against a zod schema, zod's issues turned into the contract's error body naming
// the field at fault. Below the routes: the HTTP validators (routes/validate.ts) and the runner
// protocol's calls over HTTP or the runner's socket (dispatch/) all refuse bad input this way.
import { z } from "zod";
import { AppError } from "./errors";

/** Where the input came from: a JSON body (or a socket message), a query string, a path. */
export type InputTarget = "json" | "query" | "param";

function describe(issues: z.core.$ZodIssue[]): { message: string; fields: string[] } {
  const parts = issues.map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`);
  return { message: parts.join("; "), fields: issues.map((i) => i.path.join(".")) };
}

/** The one place zod's issues become an AppError (400, the field or fields at fault in details). */
export function refuse(target: InputTarget, issues: z.core.$ZodIssue[]): never {
  if (target === "param") {
    // A path parameter's schema says the whole message (it names the value, as lookups always did).
    const first = issues[0];
    throw new AppError("bad_request", 400, first?.message ?? "invalid path", { field: first?.path.join(".") ?? "" });
  }
  const { message, fields } = describe(issues);
  throw new AppError("bad_request", 400, target === "query" ? `query: ${message}` : message, { fields });
}

/** A parsed body (HTTP, or a runner's socket message), or 400 naming the fields at fault. */
export function parseBody<S extends z.core.$ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success) refuse("json", parsed.error.issues);
  return parsed.data;
}
