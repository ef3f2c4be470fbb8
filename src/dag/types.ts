// The typed form of a DAG file after parsing and validation (src/dag/parse.ts).
// Everything here is plain data: it is stored as JSON in D1 and in each run's snapshot.

/** An ordered list of KEY=value pairs; values may reference earlier keys as ${KEY}. */
export type EnvList = Array<[key: string, value: string]>;

export interface ParamDef {
  /** Named params (`KEY=value`, `{KEY: value}`) have a name; positional ones do not. */
  name: string | null;
  /** Default value, already a string. */
  value: string;
}

export interface RetryPolicy {
  /** Retries after the first attempt (0 = no retry). */
  limit: number;
  intervalSec: number;
}

export interface ContinueOn {
  failure: boolean;
  skipped: boolean;
  /** Exit codes after which the DAG goes on although the step failed. */
  exitCode: number[];
}

export interface StepDef {
  name: string;
  id?: string;
  description?: string;
  /** The command line as written (array form joined with spaces, each element shell-quoted when needed). */
  command?: string;
  script?: string;
  /** Shell argv (`bash -e` -> ["bash", "-e"]); absent means the DAG's shell, else `sh`. */
  shell?: string[];
  dir?: string;
  depends: string[];
  env: EnvList;
  output?: string;
  timeoutSec?: number;
  retryPolicy: RetryPolicy;
  continueOn: ContinueOn;
  /** Labels a runner must have to run this step, merged over the DAG's (src/dag/selector.ts). */
  workerSelector?: Record<string, string>;
}

/** How the DAG's runs are started, admitted and kept (src/dag/run-policy.ts). */
export interface RunPolicy {
  /** Cron expressions as written (`CRON_TZ=<zone>` prefix allowed); absent: manual only. */
  schedule?: string[];
  skipIfSuccessful?: boolean;
  /** Runs of this DAG active at once; absent: no limit. */
  maxActiveRuns?: number;
  /** Named queue whose maxConcurrency also bounds this DAG's runs. */
  queue?: string;
  /** Days a finished run is kept; absent: kept until cleaned up. */
  histRetentionDays?: number;
}

export interface DagDef extends RunPolicy {
  name: string;
  description?: string;
  tags: string[];
  type: "graph" | "chain";
  env: EnvList;
  params: ParamDef[];
  shell?: string[];
  /** Every step's default workerSelector (src/dag/selector.ts). */
  workerSelector?: Record<string, string>;
  /** Steps in file order; after parsing, `depends` is explicit for both types. */
  steps: StepDef[];
}

export interface DagIssue {
  /** 1-based line in the YAML text, when known. */
  line?: number;
  /** Path of the field at fault, e.g. `steps[2].depends`. */
  field?: string;
  message: string;
}

export type ParseResult =
  | { ok: true; dag: DagDef; warnings: DagIssue[] }
  | { ok: false; errors: DagIssue[]; warnings: DagIssue[] };

/** One line of text per issue, as the contract's `errors: string[]` wants. */
export function formatIssue(i: DagIssue): string {
  const where = [i.line !== undefined ? `line ${i.line}` : null, i.field ?? null].filter((x) => x !== null).join(", ");
  return where ? `${where}: ${i.message}` : i.message;
}
