// The error body every endpoint answers with.
import * as z from "zod/mini";

/** Error body of every endpoint (the contract's flat error). */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.optional(z.record(z.string(), z.unknown())),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
