// What an attempt came to: one completion, or several in one call, with the next leases.
import * as z from "zod/mini";
import { ErrorBody } from "./errors.ts";
import { Lease, MAX_LEASES_PER_REQUEST } from "./leases.ts";
import { LogEntry } from "./logs.ts";

/** Env values a runner sends back with one completion (`reportEnv`), names and values in UTF-8 bytes. */
export const MAX_REPORTED_ENV_BYTES = 64 * 1024;

/**
 * Log text one completion may carry (`logs`: a step run ahead, its output not shipped yet), in
 * UTF-8 bytes: what the runner's shipper holds before it sends at once. A chain offered 16 deep
 * then fits the 1 MiB of a log batch in one call.
 */
export const MAX_COMPLETION_LOG_BYTES = 64 * 1024;
/** Log entries one completion may carry (each stream's run of text is one entry). */
export const MAX_COMPLETION_LOG_ENTRIES = 1024;

/** UTF-8 bytes of env names and values together. */
export function envBytes(env: Record<string, string>): number {
  const encoder = new TextEncoder();
  let bytes = 0;
  for (const [k, v] of Object.entries(env)) bytes += encoder.encode(k).length + encoder.encode(v).length;
  return bytes;
}

/**
 * What one attempt of a step came to, as the runner saw it: the one shape of a result, parsed
 * once at the edge and handed to the run's state machine as it is.
 */
export const StepOutcome = z.object({
  /** Exit code of the process, null when it was ended by a signal or never started. */
  exitCode: z.nullable(z.int()),
  signal: z._default(z.nullable(z.string()), null),
  timedOut: z._default(z.boolean(), false),
  cancelled: z._default(z.boolean(), false),
  /** Why the process could not run (spawn failure, bad dir, ...). */
  error: z.optional(z.string()),
  output: z.optional(z.string()),
  /** Set when a precondition was not met: the command did not run, and this says why. */
  preconditionUnmet: z.optional(z.string()),
  /** Whether the repeat condition held after this execution. */
  repeatConditionMet: z.optional(z.boolean()),
  /** The output matched one of continueOn.output's patterns. */
  outputMatched: z.optional(z.boolean()),
  /**
   * The files on the runner's host holding this attempt's stdout and stderr (what the step saw
   * as DAG_RUN_STEP_STDOUT_FILE / _STDERR_FILE): what `${id.stdout}` and `${id.stderr}` name.
   */
  stdoutPath: z.optional(z.string().check(z.maxLength(4096))),
  stderrPath: z.optional(z.string().check(z.maxLength(4096))),
  /** The values of the lease's `reportEnv` variables, when every env value could be evaluated. */
  env: z.optional(
    z.record(z.string(), z.string()).check(
      z.refine((env) => envBytes(env) <= MAX_REPORTED_ENV_BYTES, {
        message: `env values sent back come to more than ${MAX_REPORTED_ENV_BYTES} bytes`,
      }),
    ),
  ),
  /** The runner's clock (epoch ms): when the process started and exited. For overhead figures. */
  processStartedAt: z.optional(z.int().check(z.positive())),
  processExitedAt: z.optional(z.int().check(z.positive())),
});
/** As the server holds it (defaults applied). */
export type StepOutcome = z.output<typeof StepOutcome>;

/** Ask for the runner's next leases in the same round trip as a completion (no waiting). */
export const NextAsk = z.object({
  runnerId: z.string().check(z.minLength(1), z.maxLength(200)),
  labels: z._default(z.record(z.string(), z.string()), {}),
  max: z.int().check(z.gte(1), z.lte(MAX_LEASES_PER_REQUEST)),
});
export type NextAsk = z.output<typeof NextAsk>;

export const CompleteRequest = z.extend(StepOutcome, {
  token: z.string(),
  /** The runner cut `output` at the exec spec's maxOutputBytes (its step log says so too). */
  outputTruncated: z._default(z.boolean(), false),
  /** Last log seq the runner sent for this lease (0 when none). */
  lastLogSeq: z._default(z.int().check(z.nonnegative()), 0),
  /** Log entries the runner had to drop (buffer overflow while cut off). */
  droppedLogBytes: z._default(z.int().check(z.nonnegative()), 0),
  next: z.optional(NextAsk),
});
export type CompleteRequest = z.input<typeof CompleteRequest>;

export const CompleteResponse = z.object({
  /** False when this exact completion had already been accepted (a safe repeat). */
  accepted: z.boolean(),
  next: z._default(z.array(Lease), []),
});
export type CompleteResponse = z.infer<typeof CompleteResponse>;

/**
 * Several completions in one call (`POST /runners/completions`): a runner that finished several
 * steps reports them together, and the completions of one run are accepted in one storage
 * transaction. Each is answered on its own; `next` asks for leases after all of them.
 */
export const Completion = z.extend(z.omit(CompleteRequest, { next: true }), {
  leaseId: z.string().check(z.minLength(1), z.maxLength(300)),
  /**
   * A step the runner ran under an offer (`successor`) whose lease it has not been granted yet:
   * sent without a token, right after the completion of the step that offered it. The server
   * takes it only if that completion, in this same call, leased exactly this id and attempt to
   * this runner (docs/runner-protocol.md#a-chains-steps-run-ahead).
   */
  offered: z.optional(z.object({ attempt: z.int().check(z.positive()) })),
  /**
   * The attempt's log entries not shipped yet (a step run ahead, whose lease it had no token to
   * append them under), as a log append's, in increasing seq order: stored with the completion in
   * its transaction, or dropped with it. Within MAX_COMPLETION_LOG_BYTES and _ENTRIES, and the
   * call's within a log batch's limit (docs/runner-protocol.md#a-steps-output-with-its-completion).
   */
  logs: z.optional(z.array(LogEntry)),
});
export type Completion = z.input<typeof Completion>;

export const CompletionsRequest = z.object({
  completions: z.array(Completion).check(z.minLength(1), z.maxLength(MAX_LEASES_PER_REQUEST)),
  next: z.optional(NextAsk),
});
export type CompletionsRequest = z.input<typeof CompletionsRequest>;

/** One completion's answer: the status and body its own `complete` call would have had. */
export const CompletionResult = z.object({
  leaseId: z.string(),
  status: z.int(),
  body: z.union([
    // An offered completion taken: the token of the lease the call granted it.
    z.extend(z.omit(CompleteResponse, { next: true }), { token: z.optional(z.string()) }),
    ErrorBody,
  ]),
});
export type CompletionResult = z.infer<typeof CompletionResult>;

export const CompletionsResponse = z.object({
  /** In the order of the request's completions. */
  results: z.array(CompletionResult),
  next: z._default(z.array(Lease), []),
});
export type CompletionsResponse = z.infer<typeof CompletionsResponse>;
