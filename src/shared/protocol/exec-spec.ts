// What a runner needs to run one attempt of a step: the exec spec a lease carries.
import * as z from "zod/mini";

/** A condition the runner evaluates with the step's shell, env and dir (see docs/language.md). */
export const ExecCondition = z.object({
  /** Without `expected`: a command, met when it exits 0. With: text the shell expands. */
  condition: z.string(),
  /** The expanded text must equal this, or match it when it starts with `re:`. */
  expected: z.optional(z.string()),
  negate: z.optional(z.boolean()),
});
export type ExecCondition = z.infer<typeof ExecCondition>;

/** What a runner needs to run one attempt of one step. Fully resolved by the server. */
export const ExecSpec = z.object({
  /** Command line run as `shell -c command`, unless `script` is set. */
  command: z.optional(z.string()),
  /** Script text written to a file and run as `shell file` (or `command file` when both are set). */
  script: z.optional(z.string()),
  /**
   * Shell argv, e.g. ["bash", "-e"]: the step's `shell`, else the DAG's. Empty: the runner's
   * default, its host's `$SHELL`, else `sh` (as Dagu picks it).
   */
  shell: z.array(z.string()),
  /**
   * The interpreter the script's `#!` line names (`["/usr/bin/env", "python3"]`): it runs the
   * script file instead of the shell. Set only when the step names no shell of its own (Dagu's rule).
   */
  interpreter: z.optional(z.array(z.string()).check(z.minLength(1))),
  /** Positional parameters, visible to the command as $1, $2, ... */
  args: z.array(z.string()),
  /**
   * Working directory (the step's, under the DAG's workingDir). The runner expands `~` and the
   * `$NAME`s left in it from the step's environment; a relative path is under the runner's own.
   */
  dir: z.optional(z.string()),
  /** Variables added to the runner's environment for this process. */
  env: z.record(z.string(), z.string()),
  /**
   * `.env` files on the runner's host, loaded in order before anything runs; their variables
   * sit under `env` (which wins). A missing file is skipped, as Dagu does; when `required` (the
   * DAG named it) the step's log says so.
   */
  dotenv: z.optional(z.array(z.object({ path: z.string(), required: z.boolean() }))),
  /**
   * Resolved by the runner (`env`: its environment variable `key`; `file`: the file `key` on
   * its host) into env `name`, over everything else; each value is masked in all it sends back.
   */
  secrets: z.optional(z.array(z.object({ name: z.string(), provider: z.enum(["env", "file"]), key: z.string() }))),
  /** Files on the runner's host the process's stdout / stderr are also appended to (relative: to dir). */
  stdoutFile: z.optional(z.string()),
  stderrFile: z.optional(z.string()),
  /**
   * Which of the two paths were written with backticks: the runner expands them as it expands
   * `shellEnv` values (the commands with the step's shell, variables from the step's env).
   */
  shellFiles: z.optional(z.array(z.enum(["stdout", "stderr"]))),
  timeoutSec: z.optional(z.int().check(z.positive())),
  /** When set, the runner captures stdout (trimmed) as this output variable. */
  output: z.optional(z.string()),
  maxOutputBytes: z.int().check(z.positive()),
  /** Checked in order before the command; the first unmet one skips the step (preconditionUnmet). */
  preconditions: z.optional(z.array(ExecCondition)),
  /** Evaluated after the command; the result goes back as repeatConditionMet. */
  repeatCondition: z.optional(ExecCondition),
  /** continueOn.output: patterns looked for in each line of stdout and stderr (outputMatched). */
  outputPatterns: z.optional(z.array(z.string())),
  /** Signal sent to the process group on stop or timeout, instead of SIGTERM. */
  signalOnStop: z.optional(z.string()),
  /** Seconds between that signal and SIGKILL (the DAG's maxCleanUpTimeSec); absent: the runner's default. */
  cleanUpSec: z.optional(z.int().check(z.gte(0))),
  /**
   * Env variables (in this order) whose values hold backtick command substitutions: the runner
   * expands each with the shell, as a here-document, before anything else runs.
   */
  shellEnv: z.optional(z.array(z.string())),
  /**
   * Env variables whose values, once `shellEnv` is expanded, go back with the completion (`env`):
   * backtick values the run evaluates once and hands to later leases as they are.
   */
  reportEnv: z.optional(z.array(z.string())),
});
export type ExecSpec = z.infer<typeof ExecSpec>;
