// zod schemas as OpenAPI 3.0 Schema Objects, the version of Dagu's contract they sit beside.
import { z } from "zod";

export const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { io: "input", unrepresentable: "any", target: "openapi-3.0" }) as Record<string, unknown>;
