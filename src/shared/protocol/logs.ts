// A lease's log: batches of numbered stdout and stderr lines.
import * as z from "zod/mini";

/** Largest log batch the server takes in one append. */
export const MAX_LOG_BATCH_BYTES = 1024 * 1024;

export const LogEntry = z.object({
  /** 1-based sequence number per lease; a repeated seq is ignored (idempotent append). */
  seq: z.int().check(z.positive()),
  stream: z.enum(["stdout", "stderr"]),
  text: z.string(),
});
export type LogEntry = z.infer<typeof LogEntry>;

export const LogAppendRequest = z.object({
  token: z.string(),
  entries: z.array(LogEntry).check(z.minLength(1)),
});
export type LogAppendRequest = z.infer<typeof LogAppendRequest>;

export const LogAppendResponse = z.object({
  /** Highest seq such that every seq up to it is stored. */
  ackedSeq: z.int().check(z.nonnegative()),
});
export type LogAppendResponse = z.infer<typeof LogAppendResponse>;
