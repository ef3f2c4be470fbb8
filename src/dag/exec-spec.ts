// What a runner needs for one step: resolved by the server from the DAG, the run's params and
// the outputs of earlier steps. The rule for who expands what: dagflare resolves `${NAME}` and
// `$NAME` in env values and `dir`; the command and script are left to the shell, which sees
// all of these as environment variables and the positional params as $1, $2, ...
import type { ExecSpec } from "../protocol";
import type { ResolvedParams } from "./params";
import type { DagDef, StepDef } from "./types";

export interface ExecContext {
  runId: string;
  params: ResolvedParams;
  outputs: Record<string, string>;
  maxOutputBytes: number;
}

/** Replaces `${NAME}` and `$NAME` found by `lookup`; anything else (unknown names, `$1`, `$$`) stays. */
export function expandVars(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => {
    if (whole === "$$") return whole;
    return lookup(braced ?? bare) ?? whole;
  });
}

export function buildExecSpec(dag: DagDef, step: StepDef, ctx: ExecContext): ExecSpec {
  const env: Record<string, string> = {
    DAG_NAME: dag.name,
    DAG_RUN_ID: ctx.runId,
    DAG_RUN_STEP_NAME: step.name,
  };
  for (const [k, v] of ctx.params.named) env[k] = v;
  for (const [k, v] of Object.entries(ctx.outputs)) env[k] = v;
  const lookup = (name: string) => env[name];
  for (const [k, v] of dag.env) env[k] = expandVars(v, lookup);
  for (const [k, v] of step.env) env[k] = expandVars(v, lookup);
  const spec: ExecSpec = {
    shell: step.shell ?? dag.shell ?? ["sh"],
    args: ctx.params.positional,
    env,
    maxOutputBytes: ctx.maxOutputBytes,
  };
  if (step.command !== undefined) spec.command = step.command;
  if (step.script !== undefined) spec.script = step.script;
  if (step.dir !== undefined) spec.dir = expandVars(step.dir, lookup);
  if (step.timeoutSec !== undefined) spec.timeoutSec = step.timeoutSec;
  if (step.output !== undefined) spec.output = step.output;
  return spec;
}
