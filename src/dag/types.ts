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
  /** Multiplier of the interval per retry (`backoff: true` is 2); absent: a fixed interval. */
  backoff?: number;
  /** Cap of the interval once backoff has grown it. */
  maxIntervalSec?: number;
  /** Only these exit codes are retried; absent or empty: any failure. */
  exitCode?: number[];
}

/**
 * A precondition or a repeat condition. With `expected`, `condition` is expanded by the shell
 * (variables, `backticks`, $(...)) and the text compared with `expected` (`re:` = a regular
 * expression); without, `condition` is run as a command and met when it exits 0.
 */
export interface Condition {
  condition: string;
  expected?: string;
  negate?: boolean;
}

export interface RepeatPolicy {
  /** `while`: run again while the condition holds; `until`: run again until it holds. */
  mode: "while" | "until";
  condition?: Condition;
  /** Exit codes that count as the condition holding. */
  exitCode?: number[];
  intervalSec: number;
  backoff?: number;
  maxIntervalSec?: number;
  /** Most executions in all. */
  limit?: number;
}

export interface ContinueOn {
  failure: boolean;
  skipped: boolean;
  /** Exit codes after which the DAG goes on although the step failed. */
  exitCode: number[];
  /** Patterns of the step's output (`re:` = regular expression) after which the DAG goes on. */
  output?: string[];
  /** A failure that continueOn covers is recorded as a success. */
  markSuccess?: boolean;
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
  /** `workingDir` (or its older name `dir`): relative to the DAG's workingDir when it has one. */
  dir?: string;
  /** Files on the runner's host the step's stdout / stderr are also appended to (relative: to its dir). */
  stdout?: string;
  stderr?: string;
  depends: string[];
  env: EnvList;
  output?: string;
  timeoutSec?: number;
  retryPolicy: RetryPolicy;
  continueOn: ContinueOn;
  /** Labels a runner must have to run this step, merged over the DAG's (src/shared/selector.ts). */
  workerSelector?: Record<string, string>;
  /** All must hold when the step is about to run, or it is skipped. Evaluated on the runner. */
  preconditions?: Condition[];
  repeatPolicy?: RepeatPolicy;
  /** An instance of a `parallel` step: at most maxConcurrent instances of `name` run at once. */
  parallelGroup?: { name: string; maxConcurrent: number };
  /**
   * A `parallel` step: one step of the graph, expanded into one instance per item by the run when
   * it is ready (src/run/engine/fanout.ts). `items`: the items listed in the file (each ITEM's
   * text), or the reference as written (`${LIST}`) when they come from a variable.
   */
  fanout?: { items: string | string[]; maxConcurrent: number };
  /** Signal sent to the step's process group on stop (default SIGTERM). */
  signalOnStop?: string;
  /** Wait in status `waiting` for POST .../approve or /reject before running (dagflare's addition). */
  approval?: { prompt?: string };
  /**
   * A sub-DAG call (`call`, Dagu's older `run`): the step runs the DAG `dag` as a run of its own,
   * with `params` over the child's defaults (values may use `${...}`), and ends as that run ends.
   */
  call?: { dag: string; params: ParamDef[] };
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
  /** The context a start that names none uses, the schedule's included (src/inputs/). */
  context?: string;
  /** The parameter set a start that names none uses, the schedule's included. */
  parameterSet?: string;
}

export interface DagDef extends RunPolicy {
  name: string;
  description?: string;
  /** An organizational label (Dagu's `group`), shown with the DAG. */
  group?: string;
  tags: string[];
  type: "graph" | "chain";
  env: EnvList;
  params: ParamDef[];
  shell?: string[];
  /** Where steps run on the runner's host; relative: to the runner's own working directory. */
  workingDir?: string;
  /** Resolved by the runner on its host, given to every step as env, masked in what is shipped. */
  secrets?: SecretRef[];
  /** `.env` files the runner loads (relative: under workingDir); absent: [".env"] if it exists. */
  dotenv?: string[];
  /** Every step's default workerSelector (src/shared/selector.ts). */
  workerSelector?: Record<string, string>;
  /** Steps in file order; after parsing, `depends` is explicit for both types. */
  steps: StepDef[];
  /** All must hold when the run starts, or it is aborted. Evaluated on a runner. */
  preconditions?: Condition[];
  /** The whole run's time limit; past it the run is stopped and fails. */
  timeoutSec?: number;
  /** Wait before the first steps are dispatched. */
  delaySec?: number;
  /** Most steps queued or running at once. */
  maxActiveSteps?: number;
  /** Time a stopped step has between its stop signal and SIGKILL (the runner's default otherwise). */
  maxCleanUpTimeSec?: number;
  /** Cap of an output variable in bytes (default 1 MiB); the runner cuts there and says so. */
  maxOutputSize?: number;
  /** What a start call may not change. */
  runConfig?: { disableParamEdit: boolean; disableRunIdEdit: boolean };
  /** Lifecycle handlers: init before the steps, the others after them (see HANDLER_NAMES). */
  handlerOn?: Partial<Record<HandlerKind, StepDef>>;
  /**
   * DAGs defined in the same file after `---` (the contract's localDags), callable by name from
   * this DAG and from each other; a call looks here before the stored DAGs.
   */
  localDags?: DagDef[];
  /** Mail when a run finishes (Dagu's mailOn, smtp, errorMail, infoMail; src/dag/mail.ts). */
  mail?: MailDef;
}

export interface SecretRef {
  /** The env variable that receives the value. */
  name: string;
  /** `env`: the runner's environment variable `key`; `file`: the content of file `key` on its host. */
  provider: "env" | "file";
  key: string;
}

export type HandlerKind = "init" | "success" | "failure" | "cancel" | "exit";
/** The name each handler's step (and node) has, as in Dagu. */
export const HANDLER_NAMES: Record<HandlerKind, string> = {
  init: "onInit",
  success: "onSuccess",
  failure: "onFailure",
  cancel: "onCancel",
  exit: "onExit",
};

/** Dagu's mail keys (`mailOn`, `smtp`, `errorMail`, `infoMail`), as `readMail` (mail.ts) reads them. */
export interface MailConfig {
  /** Absent: the operator's DAGFLARE_SMTP_FROM. */
  from?: string;
  to: string[];
  prefix?: string;
  attachLogs: boolean;
}

export interface SmtpDef {
  host?: string;
  port?: number;
  username?: string;
  /** The name of the Worker secret that holds the password (SMTP_...). */
  passwordSecret?: string;
}

export interface MailDef {
  on: { failure: boolean; success: boolean };
  smtp?: SmtpDef;
  errorMail?: MailConfig;
  infoMail?: MailConfig;
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
