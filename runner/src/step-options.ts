// What the lease loop hands one attempt of a step (exec.ts): its calls to the server, where it
// logs, and the hooks by which its exit 0 starts the chain's next step early.
import type { CompleteRequest } from "../../src/shared/protocol.ts";
import type { AuthError, Log } from "./client.ts";
import type { HeldLease, LeaseCalls } from "./early-start.ts";
import type { Backoff } from "./retries.ts";
import type { RunFiles } from "./run-files.ts";

export interface StepRunOptions {
  client: LeaseCalls;
  log: Log;
  /** A step started early (early-start.ts): its calls and lines wait until its lease is confirmed. */
  held?: HeldLease;
  /** The process exited 0 and its output is in its files; its bookkeeping and completion come after. */
  onSucceeded?: () => void;
  /** Asked when the completion goes out: a `next` request rides on it when this returns one. */
  askNext?: () => CompleteRequest["next"];
  /** The server refused the token mid-step: the runner as a whole cannot go on. */
  onAuthError?: (err: AuthError) => void;
  killGraceMs?: number;
  backoff?: Backoff;
  /** The runner's own token: masked in all that is sent, and never handed to a step. */
  runnerToken?: string;
  /** The runs' files on this host: the step's DAG_RUN_*_FILE variables name them. */
  runFiles?: RunFiles;
}
