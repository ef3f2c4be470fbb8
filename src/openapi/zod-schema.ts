// zod schemas as OpenAPI 3.0 Schema Objects, the version of Dagu's contract they sit beside.
import { z } from "zod";

type Json = Record<string, unknown>;

export const schema = (s: z.core.$ZodType): Json => {
  const out = z.toJSONSchema(s, { io: "input", unrepresentable: "any", target: "openapi-3.0" }) as Json;
  const defs = out.definitions as Record<string, unknown> | undefined;
  if (!defs) return out;
  // A recursive schema (a lease's nested offers) puts its definitions beside it, where the
  // document's references would not find them: each is written out in place, and where it
  // recurs, described as the same shape nested.
  delete out.definitions;
  return inline(out, defs, new Set()) as Json;
};

function inline(v: unknown, defs: Record<string, unknown>, seen: ReadonlySet<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => inline(x, defs, seen));
  if (!v || typeof v !== "object") return v;
  const ref = (v as Json).$ref;
  if (typeof ref === "string" && ref.startsWith("#/definitions/")) {
    const name = ref.slice("#/definitions/".length);
    if (seen.has(name)) return { type: "object", description: "the same shape, nested" };
    return inline(defs[name], defs, new Set([...seen, name]));
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, inline(x, defs, seen)]));
}
