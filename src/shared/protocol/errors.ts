// The error body every endpoint answers with.
import * as z from "zod";

/** Error body of every endpoint (the contract's flat error). */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
