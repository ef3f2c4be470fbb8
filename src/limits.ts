// Every size, count and duration dagflare accepts, in one place, so that they hold together:
// what validation accepts can be stored, started, passed to a process and reported back.
// The README's "Limits" table lists them; each is enforced where it can first be checked.

import { MAX_LOG_BATCH_BYTES } from "./shared/protocol";

export { MAX_LOG_BATCH_BYTES };

const KiB = 1024;
const MiB = 1024 * KiB;

/** A DAG file's YAML text, in UTF-8 bytes. */
export const MAX_SPEC_BYTES = 256 * KiB;
/**
 * A DAG file with its aliases expanded (YAML text measure: each scalar as written, plus a
 * little per node). A few hundred bytes of nested aliases can otherwise stand for gigabytes.
 */
export const MAX_SPEC_EXPANDED_BYTES = 1 * MiB;
/** Nesting of YAML collections, aliases included: far deeper than any DAG needs. */
export const MAX_YAML_DEPTH = 64;
/** Steps of one DAG, parallel items expanded, handlers not counted. */
export const MAX_STEPS = 5000;
/** A step's command: it is one argument of `shell -c`, and Linux refuses one over 128 KiB. */
export const MAX_COMMAND_BYTES = 64 * KiB;
/**
 * A DAG as stored (its YAML and its parsed definition in one D1 row, which D1 caps at
 * 2,000,000 bytes; the run's own copy lives in one Durable Object row with the same cap).
 */
export const MAX_STORED_DAG_BYTES = 1_500_000;
/** The `params` text of a start call. */
export const MAX_PARAMS_BYTES = 64 * KiB;

/** Contexts, and parameter sets, stored at once (each kind counted on its own). */
export const MAX_INPUT_SETS = 1000;
/** Variables of one context, or params of one parameter set. */
export const MAX_INPUT_SET_ENTRIES = 200;
/**
 * One context's variables, or one parameter set's params, as JSON: a run gets them in its
 * environment, where Linux caps one variable at 128 KiB and all of them at about 2 MiB.
 */
export const MAX_INPUT_SET_BYTES = 64 * KiB;
/** A context's `extends` chain: the context and at most this many ancestors. */
export const MAX_CONTEXT_DEPTH = 8;
/**
 * The JSON body of an incoming webhook: the run gets it as the param WEBHOOK_PAYLOAD, escaped
 * into a start call's params (at most twice as long), which must stay within MAX_PARAMS_BYTES.
 */
export const MAX_WEBHOOK_PAYLOAD_BYTES = 32 * KiB;
/** Webhook tokens not revoked, per DAG. */
export const MAX_WEBHOOK_TOKENS_PER_DAG = 20;

/**
 * One step's captured output (maxOutputSize may lower it): every later step gets it as an
 * environment variable, and Linux refuses one over 128 KiB.
 */
export const MAX_OUTPUT_BYTES = 64 * KiB;
/**
 * The outputs of one run together: later steps get all of them in their environment, which
 * Linux caps (with the arguments) at about 2 MiB.
 */
export const MAX_RUN_OUTPUTS_BYTES = 1 * MiB;

/** A request's URL, query included. */
export const MAX_URL_BYTES = 8 * KiB;
/** Request bodies of the user API (a spec with room for JSON escaping). */
export const MAX_API_BODY_BYTES = 1 * MiB;
/** Request bodies of the runner protocol: a log batch with room for JSON escaping. */
export const MAX_RUNNER_BODY_BYTES = 2 * MAX_LOG_BATCH_BYTES;

/** Log kept per attempt of a step (both streams), in UTF-8 bytes; the rest is dropped and counted. */
export const MAX_LOG_BYTES_PER_ATTEMPT = 32 * MiB;
/**
 * Content of one log read; a wider window ends early with `hasMore`. Twice the runner's log
 * buffer, so that the longest line a runner can keep is read whole, and half the Durable Object
 * RPC message limit.
 */
export const MAX_LOG_READ_BYTES = 16 * MiB;
/** Lines of one log read without `limit` (the contract's default window). */
export const DEFAULT_LOG_LIMIT = 10_000;

/**
 * Timers the runner runs (a step's timeoutSec, maxCleanUpTimeSec): Node.js fires a timer
 * longer than 2^31-1 ms at once, so these stop at 24.8 days.
 */
export const MAX_RUNNER_TIMER_SEC = Math.floor((2 ** 31 - 1) / 1000);
/** Timers the server runs (the DAG's timeoutSec and delaySec, retry and repeat intervals): a year. */
export const MAX_SERVER_TIMER_SEC = 365 * 24 * 3600;
/** retryPolicy.limit: retries of one step. */
export const MAX_RETRY_LIMIT = 100;
/** repeatPolicy.limit: runs of one step. A repeat without a limit needs an interval of at least 1 s. */
export const MAX_REPEAT_LIMIT = 10_000;
/** Any other count a DAG sets (maxActiveSteps, maxActiveRuns, maxConcurrent, histRetentionDays). */
export const MAX_COUNT = 100_000;
/**
 * Steps of a chain a lease offers ahead of it (`successor`, nested): a runner may run that many
 * before the server has leased them, so a run stopped meanwhile may have had that many run whose
 * results are dropped.
 */
export const MAX_OFFER_DEPTH = 16;

const encoder = new TextEncoder();
/** Size in UTF-8 (a character may take up to 4 bytes; `length` counts UTF-16 units). */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** "256 KiB", "32 MiB", "1000": how a limit reads in a message. */
export function showBytes(n: number): string {
  if (n % MiB === 0) return `${n / MiB} MiB`;
  if (n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}

/** An upper bound as validation states it: the value and the limit's name in words. */
export interface Bound {
  value: number;
  why: string;
}

export const BOUND = {
  runnerTimer: { value: MAX_RUNNER_TIMER_SEC, why: "24.8 days, the longest timer the runner runs" },
  serverTimer: { value: MAX_SERVER_TIMER_SEC, why: "a year, the longest timer the server runs" },
  retryLimit: { value: MAX_RETRY_LIMIT, why: "the limit of retries" },
  repeatLimit: { value: MAX_REPEAT_LIMIT, why: "the limit of repeats" },
  count: { value: MAX_COUNT, why: "the limit of a count" },
  outputBytes: { value: MAX_OUTPUT_BYTES, why: "the limit of an output" },
  retentionDays: { value: 36_500, why: "a hundred years" },
} satisfies Record<string, Bound>;
