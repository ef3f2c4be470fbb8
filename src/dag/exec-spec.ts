// What a runner needs for one step: resolved by the server from the DAG, the run's params and
// the outputs of earlier steps.
// PURE. Who expands what: dagflare resolves `${NAME}` and `$NAME` in env values and in `dir`,
// because those never pass through a shell; the command and script are left to the shell, which
// sees every variable below in its environment and the positional params as $1, $2, ...
// Env, in order, a later entry replacing an earlier one of the same name:
//   DAG_NAME, DAG_RUN_ID, DAG_RUN_STEP_NAME (and DAG_RUN_STATUS for handlers); named params; outputs of earlier steps;
//   the DAG's env (each value may use anything above it); the step's env (likewise).
import { MAX_OUTPUT_BYTES, MAX_RUNNER_TIMER_SEC } from "../limits";
import type { ExecSpec } from "../shared/protocol";
import { expandVars, VAR_REF } from "../shared/vars";
import { DEFAULT_DOTENV, underDir } from "./host";
import type { ResolvedParams } from "./params";
import { expandJsonPaths, type StepRefValues } from "./refs";
import { shebangOf } from "./shebang";
import type { DagDef, StepDef } from "./types";

export interface ExecContext {
  runId: string;
  params: ResolvedParams;
  /** Output variables of the steps that finished before this one, by variable name. */
  outputs: Record<string, string>;
  maxOutputBytes: number;
  /** For lifecycle handlers: the run's status, given to them as DAG_RUN_STATUS. */
  runStatus?: string;
  /** What `${ID.stdout}`, `${ID.stderr}` and `${ID.exitCode}` read, by step id. */
  steps?: Record<string, StepRefValues>;
  /**
   * Values of the DAG's backtick env entries and param defaults, evaluated once for the run by
   * a runner (see `reportEnv`): every step gets them as they are, never evaluated again.
   */
  evaluatedEnv?: Record<string, string>;
  /** Values of this step's own backtick env entries, evaluated at its first execution. */
  stepEnv?: Record<string, string>;
  /** The run's env step: the DAG's backtick values are asked back (`reportEnv`), not the step's. */
  reportDagEnv?: boolean;
}

/** Whether the DAG has env values a shell must evaluate (backticks): a run evaluates them once. */
export function hasShellEnv(dag: DagDef): boolean {
  return dag.env.some(([, v]) => v.includes("`")) || dag.params.some((p) => p.name && p.value.includes("`"));
}

export { expandVars };

export function buildExecSpec(dag: DagDef, step: StepDef, ctx: ExecContext): ExecSpec {
  // A Map, not an object literal: a variable named `constructor` or `__proto__` must stay data.
  const env = new Map<string, string>([
    ["DAG_NAME", dag.name],
    ["DAG_RUN_ID", ctx.runId],
    ["DAG_RUN_STEP_NAME", step.name],
  ]);
  if (ctx.runStatus !== undefined) env.set("DAG_RUN_STATUS", ctx.runStatus);
  // Backticks in the DAG file's env values and param defaults are command substitutions, run
  // by the runner's shell (they need the runner's machine); a value that uses such a variable
  // is expanded there too (see shellEnv). A start call's params and outputs are data, never run.
  // Each is evaluated once: the DAG's for the run, a step's for the step (its retries and
  // repeats); the runner sends the values back (`reportEnv`) and later leases carry them as data.
  const shellKeys = new Set<string>();
  // Backtick values (or values using one) still to evaluate, and values using a secret, which
  // the runner alone may know and so never sends back.
  const onceKeys = new Set<string>();
  const secretNames = new Set((dag.secrets ?? []).map((s) => s.name));
  const secretDeps = new Set(secretNames);
  const evaluated = ctx.evaluatedEnv ?? {};
  const stepValues = ctx.stepEnv ?? {};
  const lastWriter = (list: Array<[string, string]>) => new Map(list.map(([k], i) => [k, i]));
  const dagLast = lastWriter(dag.env);
  const stepLast = lastWriter(step.env);
  const defaults = new Map(dag.params.flatMap((p) => (p.name ? [[p.name, p.value] as const] : [])));
  const setData = (k: string, v: string) => {
    env.set(k, v);
    shellKeys.delete(k);
    onceKeys.delete(k);
    // A secret replaces its variable on the runner, whatever was set here.
    if (!secretNames.has(k)) secretDeps.delete(k);
  };
  for (const [k, v] of ctx.params.named) {
    if (!(v.includes("`") && defaults.get(k) === v)) env.set(k, v);
    else if (Object.hasOwn(evaluated, k) && !dagLast.has(k)) setData(k, evaluated[k] as string);
    else {
      env.set(k, v);
      shellKeys.add(k);
      onceKeys.add(k);
    }
  }
  for (const [k, v] of Object.entries(ctx.outputs)) setData(k, v);
  // A secret's value exists on the runner only: an env value that uses one is expanded there.
  for (const name of secretNames) shellKeys.add(name);
  const lookup = (name: string) => env.get(name);
  // `${VAR.path}` (a JSON path into an output) is dagflare's everywhere: no shell can expand it.
  const paths = (text: string) => expandJsonPaths(text, ctx.outputs, ctx.steps);
  const setEnv = (k: string, v: string) => {
    // A name dagflare does not know may come from a .env file on the runner's host: such a value
    // is expanded there too, from the step's env once the files are loaded (else left as written).
    const refs = [...v.matchAll(VAR_REF)].map((m) => m[1] ?? m[2] ?? "");
    const usesShell = v.includes("`") || refs.some((name) => shellKeys.has(name) || !env.has(name));
    // The runner expands such a value as written: backticks first, then variables from the
    // step's env. Nothing is substituted here, so no param or output text becomes a command.
    env.set(k, usesShell ? v : expandVars(paths(v), lookup));
    const secret = refs.some((name) => secretDeps.has(name));
    const once = usesShell && !secret && (v.includes("`") || refs.some((name) => onceKeys.has(name)));
    for (const [set, has] of [
      [shellKeys, usesShell],
      [onceKeys, once],
      [secretDeps, secret],
    ] as const) {
      if (has) set.add(k);
      else set.delete(k);
    }
  };
  dag.env.forEach(([k, v], i) => {
    // The value evaluated for the run stands where the DAG last set the variable.
    if (Object.hasOwn(evaluated, k) && dagLast.get(k) === i) setData(k, evaluated[k] as string);
    else setEnv(k, v);
  });
  const dagOnce = ctx.reportDagEnv ? [...onceKeys] : [];
  step.env.forEach(([k, v], i) => {
    if (Object.hasOwn(stepValues, k) && stepLast.get(k) === i) setData(k, stepValues[k] as string);
    else setEnv(k, v);
  });
  const stepOnce = [...onceKeys].filter((k) => stepLast.has(k));

  const spec: ExecSpec = {
    // None named: the runner's host decides ($SHELL, else sh), as Dagu's host does.
    shell: step.shell ?? dag.shell ?? [],
    args: [...ctx.params.positional],
    env: Object.fromEntries(env),
    maxOutputBytes: Math.min(ctx.maxOutputBytes, MAX_OUTPUT_BYTES),
  };
  if (step.command !== undefined) spec.command = paths(step.command);
  if (step.script !== undefined) spec.script = paths(step.script);
  // A script's `#!` line names its interpreter unless the step names a shell (Dagu's rule: the
  // DAG's shell does not override it) or a command to run the script with.
  const interpreter = step.shell === undefined && step.command === undefined ? shebangOf(spec.script) : undefined;
  if (interpreter !== undefined) spec.interpreter = interpreter;
  // A relative step dir is under the DAG's workingDir; what is left relative after that, the
  // runner resolves against its own working directory.
  const dagDir = dag.workingDir === undefined ? undefined : expandVars(paths(dag.workingDir), lookup);
  const stepDir = step.dir === undefined ? undefined : expandVars(paths(step.dir), lookup);
  const dir = stepDir === undefined ? dagDir : underDir(dagDir, stepDir);
  if (dir !== undefined) spec.dir = dir;
  // Files named in the DAG must exist; the default .env is loaded only when it does.
  const dotenv = (dag.dotenv ?? [DEFAULT_DOTENV]).map((p) => ({
    path: underDir(dagDir, expandVars(p, lookup)),
    required: dag.dotenv !== undefined,
  }));
  if (dotenv.length) spec.dotenv = dotenv;
  // Relative to the step's working directory, which only the runner knows in full. A path
  // written with backticks goes as written: the runner runs them and fills its variables from
  // the step's env, so a param or output inserted here could never become a command.
  const shellFiles: Array<"stdout" | "stderr"> = [];
  const filePath = (stream: "stdout" | "stderr", text: string) => {
    if (!text.includes("`")) return expandVars(paths(text), lookup);
    shellFiles.push(stream);
    return text;
  };
  if (step.stdout !== undefined) spec.stdoutFile = filePath("stdout", step.stdout);
  if (step.stderr !== undefined) spec.stderrFile = filePath("stderr", step.stderr);
  if (shellFiles.length) spec.shellFiles = shellFiles;
  // Validation bounds both; a DAG stored before that is held to what the runner's timers can do.
  if (step.timeoutSec !== undefined) spec.timeoutSec = Math.min(step.timeoutSec, MAX_RUNNER_TIMER_SEC);
  if (step.output !== undefined) spec.output = step.output;
  if (step.preconditions?.length) spec.preconditions = step.preconditions;
  if (step.repeatPolicy?.condition) spec.repeatCondition = step.repeatPolicy.condition;
  if (step.continueOn.output?.length) spec.outputPatterns = step.continueOn.output;
  if (step.signalOnStop !== undefined) spec.signalOnStop = step.signalOnStop;
  if (dag.maxCleanUpTimeSec !== undefined) spec.cleanUpSec = Math.min(dag.maxCleanUpTimeSec, MAX_RUNNER_TIMER_SEC);
  // A secret replaces a variable of its name on the runner, so that variable is never expanded.
  const shellEnv = [...env.keys()].filter((k) => shellKeys.has(k) && !secretNames.has(k));
  if (shellEnv.length) spec.shellEnv = shellEnv;
  // A variable named like a secret holds the secret's value on the runner: never sent back.
  const reportEnv = (ctx.reportDagEnv ? dagOnce : stepOnce).filter((k) => !secretNames.has(k));
  if (reportEnv.length) spec.reportEnv = reportEnv;
  if (dag.secrets?.length) {
    spec.secrets = dag.secrets.map((s) => ({ ...s, key: s.provider === "file" ? underDir(dagDir, s.key) : s.key }));
  }
  return spec;
}
