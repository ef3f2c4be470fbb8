// The runner protocol: zod schemas shared by the Worker (src/routes/runners.ts) and the
// runner (runner/src). Schema and type carry one name. See docs/runner-protocol.md.
// A namespace import, not `import { z }`: the runner's bundler then keeps only the parts of zod
// these schemas use, and leaves out its 40 locales and JSON Schema converters (the runner bundle
// went from 737 KB to 290 KB, 5 MiB less resident on Node 22: BENCHMARKS.md "Runner idle memory").
import * as z from "zod";

export const RUNNER_API_PREFIX = "/api/v2/runners";
/** Longest a lease request may wait for work before it returns empty. */
export const MAX_LEASE_WAIT_MS = 25_000;
/** Largest log batch the server takes in one append. */
export const MAX_LOG_BATCH_BYTES = 1024 * 1024;
export const MAX_LEASES_PER_REQUEST = 64;

/** A condition the runner evaluates with the step's shell, env and dir (see docs/language.md). */
export const ExecCondition = z.object({
  /** Without `expected`: a command, met when it exits 0. With: text the shell expands. */
  condition: z.string(),
  /** The expanded text must equal this, or match it when it starts with `re:`. */
  expected: z.string().optional(),
  negate: z.boolean().optional(),
});
export type ExecCondition = z.infer<typeof ExecCondition>;

/** What a runner needs to run one attempt of one step. Fully resolved by the server. */
export const ExecSpec = z.object({
  /** Command line run as `shell -c command`, unless `script` is set. */
  command: z.string().optional(),
  /** Script text written to a file and run as `shell file` (or `command file` when both are set). */
  script: z.string().optional(),
  /**
   * Shell argv, e.g. ["bash", "-e"]: the step's `shell`, else the DAG's. Empty: the runner's
   * default, its host's `$SHELL`, else `sh` (as Dagu picks it).
   */
  shell: z.array(z.string()),
  /**
   * The interpreter the script's `#!` line names (`["/usr/bin/env", "python3"]`): it runs the
   * script file instead of the shell. Set only when the step names no shell of its own (Dagu's rule).
   */
  interpreter: z.array(z.string()).min(1).optional(),
  /** Positional parameters, visible to the command as $1, $2, ... */
  args: z.array(z.string()),
  /**
   * Working directory (the step's, under the DAG's workingDir). The runner expands `~` and the
   * `$NAME`s left in it from the step's environment; a relative path is under the runner's own.
   */
  dir: z.string().optional(),
  /** Variables added to the runner's environment for this process. */
  env: z.record(z.string(), z.string()),
  /**
   * `.env` files on the runner's host, loaded in order before anything runs; their variables
   * sit under `env` (which wins). A missing file is skipped, as Dagu does; when `required` (the
   * DAG named it) the step's log says so.
   */
  dotenv: z.array(z.object({ path: z.string(), required: z.boolean() })).optional(),
  /**
   * Resolved by the runner (`env`: its environment variable `key`; `file`: the file `key` on
   * its host) into env `name`, over everything else; each value is masked in all it sends back.
   */
  secrets: z.array(z.object({ name: z.string(), provider: z.enum(["env", "file"]), key: z.string() })).optional(),
  /** Files on the runner's host the process's stdout / stderr are also appended to (relative: to dir). */
  stdoutFile: z.string().optional(),
  stderrFile: z.string().optional(),
  /**
   * Which of the two paths were written with backticks: the runner expands them as it expands
   * `shellEnv` values (the commands with the step's shell, variables from the step's env).
   */
  shellFiles: z.array(z.enum(["stdout", "stderr"])).optional(),
  timeoutSec: z.number().int().positive().optional(),
  /** When set, the runner captures stdout (trimmed) as this output variable. */
  output: z.string().optional(),
  maxOutputBytes: z.number().int().positive(),
  /** Checked in order before the command; the first unmet one skips the step (preconditionUnmet). */
  preconditions: z.array(ExecCondition).optional(),
  /** Evaluated after the command; the result goes back as repeatConditionMet. */
  repeatCondition: ExecCondition.optional(),
  /** continueOn.output: patterns looked for in each line of stdout and stderr (outputMatched). */
  outputPatterns: z.array(z.string()).optional(),
  /** Signal sent to the process group on stop or timeout, instead of SIGTERM. */
  signalOnStop: z.string().optional(),
  /** Seconds between that signal and SIGKILL (the DAG's maxCleanUpTimeSec); absent: the runner's default. */
  cleanUpSec: z.number().int().min(0).optional(),
  /**
   * Env variables (in this order) whose values hold backtick command substitutions: the runner
   * expands each with the shell, as a here-document, before anything else runs.
   */
  shellEnv: z.array(z.string()).optional(),
  /**
   * Env variables whose values, once `shellEnv` is expanded, go back with the completion (`env`):
   * backtick values the run evaluates once and hands to later leases as they are.
   */
  reportEnv: z.array(z.string()).optional(),
});
export type ExecSpec = z.infer<typeof ExecSpec>;

/**
 * The step a runner may start as soon as the leased step exits 0, before its completion's reply
 * (docs/runner-protocol.md#a-chains-next-step-started-early): what its lease will be. The runner
 * goes on with it only once a reply grants a lease of this id, attempt and spec.
 */
export interface LeaseOffer {
  /** The lease id its lease will have (`<runId>.<stepIndex>.<dispatchSeq>`). */
  leaseId: string;
  stepName: string;
  attempt: number;
  exec: ExecSpec;
  /**
   * The step after it, which the runner may start when this one exits 0 in turn: the chain ahead,
   * one offer inside the other, up to the server's depth. An older runner reads only the first.
   */
  successor?: LeaseOffer;
}
export const LeaseOffer: z.ZodType<LeaseOffer> = z.object({
  leaseId: z.string(),
  stepName: z.string(),
  attempt: z.number().int().positive(),
  exec: ExecSpec,
  get successor() {
    return LeaseOffer.optional();
  },
});

export const Lease = z.object({
  /** `<runId>.<stepIndex>.<dispatchSeq>`: names the run, so calls route without a lookup. */
  leaseId: z.string(),
  /** Fencing token: only calls carrying the current token for this lease are accepted. */
  token: z.string(),
  runId: z.string(),
  dagName: z.string(),
  stepName: z.string(),
  /** Attempt number of this step, from 1. */
  attempt: z.number().int().positive(),
  ttlMs: z.number().int().positive(),
  heartbeatIntervalMs: z.number().int().positive(),
  exec: ExecSpec,
  /**
   * The chain's next step, offered to start early; absent when the server offers none. (Not
   * `then`: an object with a `then` is taken for a promise by `await`.)
   */
  successor: LeaseOffer.optional(),
});
export type Lease = z.infer<typeof Lease>;

export const LeaseRequest = z.object({
  /** Stable for the life of a runner process; shown in run details. */
  runnerId: z.string().min(1).max(200),
  labels: z.record(z.string(), z.string()).default({}),
  /** Free slots: at most this many leases are returned. */
  max: z.number().int().min(1).max(MAX_LEASES_PER_REQUEST),
  /** How long to wait for work when none is ready (long poll). */
  waitMs: z.number().int().min(0).max(MAX_LEASE_WAIT_MS).default(MAX_LEASE_WAIT_MS),
});
export type LeaseRequest = z.input<typeof LeaseRequest>;

export const LeaseResponse = z.object({ leases: z.array(Lease) });
export type LeaseResponse = z.infer<typeof LeaseResponse>;

export const HeartbeatRequest = z.object({ token: z.string() });
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.object({
  /** True when the step was stopped: kill the process group and complete with cancelled. */
  cancel: z.boolean(),
  ttlMs: z.number().int().positive(),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const LogEntry = z.object({
  /** 1-based sequence number per lease; a repeated seq is ignored (idempotent append). */
  seq: z.number().int().positive(),
  stream: z.enum(["stdout", "stderr"]),
  text: z.string(),
});
export type LogEntry = z.infer<typeof LogEntry>;

export const LogAppendRequest = z.object({
  token: z.string(),
  entries: z.array(LogEntry).min(1),
});
export type LogAppendRequest = z.infer<typeof LogAppendRequest>;

export const LogAppendResponse = z.object({
  /** Highest seq such that every seq up to it is stored. */
  ackedSeq: z.number().int().nonnegative(),
});
export type LogAppendResponse = z.infer<typeof LogAppendResponse>;

/** Env values a runner sends back with one completion (`reportEnv`), names and values in UTF-8 bytes. */
export const MAX_REPORTED_ENV_BYTES = 64 * 1024;

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
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable().default(null),
  timedOut: z.boolean().default(false),
  cancelled: z.boolean().default(false),
  /** Why the process could not run (spawn failure, bad dir, ...). */
  error: z.string().optional(),
  output: z.string().optional(),
  /** Set when a precondition was not met: the command did not run, and this says why. */
  preconditionUnmet: z.string().optional(),
  /** Whether the repeat condition held after this execution. */
  repeatConditionMet: z.boolean().optional(),
  /** The output matched one of continueOn.output's patterns. */
  outputMatched: z.boolean().optional(),
  /**
   * The files on the runner's host holding this attempt's stdout and stderr (what the step saw
   * as DAG_RUN_STEP_STDOUT_FILE / _STDERR_FILE): what `${id.stdout}` and `${id.stderr}` name.
   */
  stdoutPath: z.string().max(4096).optional(),
  stderrPath: z.string().max(4096).optional(),
  /** The values of the lease's `reportEnv` variables, when every env value could be evaluated. */
  env: z
    .record(z.string(), z.string())
    .refine((env) => envBytes(env) <= MAX_REPORTED_ENV_BYTES, {
      message: `env values sent back come to more than ${MAX_REPORTED_ENV_BYTES} bytes`,
    })
    .optional(),
  /** The runner's clock (epoch ms): when the process started and exited. For overhead figures. */
  processStartedAt: z.number().int().positive().optional(),
  processExitedAt: z.number().int().positive().optional(),
});
/** As the server holds it (defaults applied). */
export type StepOutcome = z.output<typeof StepOutcome>;

/** Ask for the runner's next leases in the same round trip as a completion (no waiting). */
export const NextAsk = z.object({
  runnerId: z.string().min(1).max(200),
  labels: z.record(z.string(), z.string()).default({}),
  max: z.number().int().min(1).max(MAX_LEASES_PER_REQUEST),
});
export type NextAsk = z.output<typeof NextAsk>;

export const CompleteRequest = StepOutcome.extend({
  token: z.string(),
  /** The runner cut `output` at the exec spec's maxOutputBytes (its step log says so too). */
  outputTruncated: z.boolean().default(false),
  /** Last log seq the runner sent for this lease (0 when none). */
  lastLogSeq: z.number().int().nonnegative().default(0),
  /** Log entries the runner had to drop (buffer overflow while cut off). */
  droppedLogBytes: z.number().int().nonnegative().default(0),
  next: NextAsk.optional(),
});
export type CompleteRequest = z.input<typeof CompleteRequest>;

export const CompleteResponse = z.object({
  /** False when this exact completion had already been accepted (a safe repeat). */
  accepted: z.boolean(),
  next: z.array(Lease).default([]),
});
export type CompleteResponse = z.infer<typeof CompleteResponse>;

export const ReleaseRequest = z.object({
  token: z.string(),
  reason: z.string().max(500).default("runner shutting down"),
});
export type ReleaseRequest = z.input<typeof ReleaseRequest>;

/** A runner's own heartbeat (not a lease's): how the fleet view (GET /workers) knows it. */
export const RunnerHeartbeatRequest = z.object({
  runnerId: z.string().min(1).max(200),
  labels: z.record(z.string(), z.string()).default({}),
  /** Slots of this runner (its --concurrency). */
  totalSlots: z.number().int().min(1).max(MAX_LEASES_PER_REQUEST),
  running: z
    .array(
      z.object({
        runId: z.string(),
        dagName: z.string(),
        stepName: z.string(),
        /** Epoch ms. */
        startedAt: z.number().int().nonnegative(),
      }),
    )
    .max(MAX_LEASES_PER_REQUEST)
    .default([]),
});
export type RunnerHeartbeatRequest = z.input<typeof RunnerHeartbeatRequest>;

/** How often a runner sends its own heartbeat. */
export const RUNNER_HEARTBEAT_INTERVAL_MS = 5_000;

/** GET /dag-runs/{name}/{dagRunId}/outputs (dagflare's addition): each step's output variables. */
export const RunOutputs = z.object({
  name: z.string(),
  dagRunId: z.string(),
  /** Every step (and handler) that declares `output`, in DAG order. */
  steps: z.array(
    z.object({
      step: z.string(),
      status: z.string(),
      /** The variable and its value; empty until the step captured it (or when a later step overwrote it). */
      outputs: z.record(z.string(), z.string()),
    }),
  ),
  /** The variables as later steps see them. */
  variables: z.record(z.string(), z.string()),
});
export type RunOutputs = z.infer<typeof RunOutputs>;

/** POST /dag-runs/{name}/{dagRunId}/steps/{stepName}/approve and /reject (a dagflare addition). */
export const ApprovalRequest = z.object({
  /** Why; written to the run log (and, on rejection, is the step's error). */
  reason: z.string().max(2000).optional(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

export const ApprovalResponse = z.object({
  stepName: z.string(),
  /** The step's status after the decision: not_started (dispatched to run), succeeded (no command) or rejected. */
  statusLabel: z.string(),
});
export type ApprovalResponse = z.infer<typeof ApprovalResponse>;

/** Error body of every endpoint (the contract's flat error). */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---- the runner's socket (docs/runner-protocol.md#the-socket) -------------------------------

/** GET under RUNNER_API_PREFIX that opens a runner's socket (a WebSocket upgrade). */
export const RUNNER_SOCKET_PATH = "/socket";

/**
 * Runner to server: one call, the same path and body as over HTTP (`/lease`,
 * `/leases/{leaseId}/{heartbeat|logs|complete|release}`), numbered by the runner.
 */
export const SocketCall = z.object({
  id: z.number().int().nonnegative(),
  path: z.string().max(400),
  body: z.unknown(),
});
export type SocketCall = z.infer<typeof SocketCall>;

/** Runner to server: withdraw the lease request numbered `cancel` (the runner is draining). */
export const SocketCancel = z.object({ cancel: z.number().int().nonnegative() });
export type SocketCancel = z.infer<typeof SocketCancel>;

export const SocketClientMessage = z.union([SocketCall, SocketCancel]);

/** Server to runner: the answer to call `id`, with the HTTP status and body it would have had. */
export const SocketReply = z.object({
  id: z.number().int().nonnegative(),
  status: z.number().int(),
  body: z.unknown(),
});
export type SocketReply = z.infer<typeof SocketReply>;

/** The runner's keep-alive message and its answer (the server answers it without waking). */
export const SOCKET_PING = '{"ping":1}';
export const SOCKET_PONG = '{"pong":1}';

/** Close code of a socket whose token was revoked (or is unknown): the runner stops, as on a 401. */
export const SOCKET_CLOSE_UNAUTHORIZED = 4401;

/**
 * Several completions in one call (`POST /runners/completions`): a runner that finished several
 * steps reports them together, and the completions of one run are accepted in one storage
 * transaction. Each is answered on its own; `next` asks for leases after all of them.
 */
export const Completion = CompleteRequest.omit({ next: true }).extend({
  leaseId: z.string().min(1).max(300),
  /**
   * A step the runner ran under an offer (`successor`) whose lease it has not been granted yet:
   * sent without a token, right after the completion of the step that offered it. The server
   * takes it only if that completion, in this same call, leased exactly this id and attempt to
   * this runner (docs/runner-protocol.md#a-chains-steps-run-ahead).
   */
  offered: z.object({ attempt: z.number().int().positive() }).optional(),
});
export type Completion = z.input<typeof Completion>;

export const CompletionsRequest = z.object({
  completions: z.array(Completion).min(1).max(MAX_LEASES_PER_REQUEST),
  next: NextAsk.optional(),
});
export type CompletionsRequest = z.input<typeof CompletionsRequest>;

/** One completion's answer: the status and body its own `complete` call would have had. */
export const CompletionResult = z.object({
  leaseId: z.string(),
  status: z.number().int(),
  body: z.union([
    // An offered completion taken: the token of the lease the call granted it.
    CompleteResponse.omit({ next: true }).extend({ token: z.string().optional() }),
    ErrorBody,
  ]),
});
export type CompletionResult = z.infer<typeof CompletionResult>;

export const CompletionsResponse = z.object({
  /** In the order of the request's completions. */
  results: z.array(CompletionResult),
  next: z.array(Lease).default([]),
});
export type CompletionsResponse = z.infer<typeof CompletionsResponse>;
