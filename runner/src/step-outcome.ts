// How one attempt of a step ended, as the runner reports it (step-report.ts): the process's
// result and what the runner evaluated around it.
import type { ProcessResult } from "./process-group.ts";

export type Outcome = ProcessResult & {
  output?: string;
  /** The `reportEnv` values, evaluated here once for the whole run (or step). */
  env?: Record<string, string>;
  outputTruncated: boolean;
  preconditionUnmet?: string;
  repeatConditionMet?: boolean;
  outputMatched?: boolean;
};

/** A step that ended before its process ran: `error` says why. */
export function notRun(error: string): Outcome {
  return { exitCode: null, signal: null, outputTruncated: false, error };
}

/** Exited 0 by itself: what lets a chain's next step, run ahead, start. */
export function succeeded(o: ProcessResult): boolean {
  return o.exitCode === 0 && o.signal === null && o.error === undefined;
}

export function describeExit(r: ProcessResult): string {
  if (r.error !== undefined) return `could not run: ${r.error}`;
  return r.signal ? `exited by ${r.signal}` : `exited with ${r.exitCode}`;
}
