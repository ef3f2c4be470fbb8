// dagflare start DAG [-- KEY=VALUE ...]: start a run; --wait waits for its end, --follow shows
// it live. With either, the exit code is 0 only when the run succeeded. --context and
// --parameter-set name a context and a parameter set stored on the server. dagflare enqueue
// (Dagu's `dagu enqueue`) puts a run of the DAG on its queue with the same parameters and flags,
// and returns: a queued run may wait for a long time.
import { shellQuote } from "../../../src/dag/words.ts";
import { enc, type RunDetails } from "../api-types.ts";
import type { Context } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { watchRun } from "../live-view.ts";
import { duration, printJson, say, status } from "../output.ts";

/** What a new run is given, by `start` and `enqueue` alike. */
export interface RunFlags {
  runId?: string;
  context?: string;
  parameterSet?: string;
}

export interface StartFlags extends RunFlags {
  wait?: boolean;
  follow?: boolean;
}

export interface EnqueueFlags extends RunFlags {
  queue?: string;
}

/** The body of POST /dags/{name}/start and /enqueue. */
function runBody(params: string[], opts: RunFlags): Record<string, string> {
  const body: Record<string, string> = {};
  if (params.length) body.params = params.map(paramWord).join(" ");
  if (opts.runId) body.dagRunId = opts.runId;
  if (opts.context) body.context = opts.context;
  if (opts.parameterSet) body.parameterSet = opts.parameterSet;
  return body;
}

export async function enqueue(ctx: Context, dag: string, params: string[], opts: EnqueueFlags): Promise<number> {
  const body = runBody(params, opts);
  if (opts.queue) body.queue = opts.queue;
  const { dagRunId } = await ctx.client().post<{ dagRunId: string }>(`/dags/${enc(dag)}/enqueue`, body);
  if (ctx.json) printJson({ name: dag, dagRunId });
  else {
    say(`queued ${dag} run ${dagRunId}`);
    say(`see it wait or run with: dagflare status ${dag} ${dagRunId}`);
  }
  return EXIT.ok;
}

export async function start(ctx: Context, dag: string, params: string[], opts: StartFlags): Promise<number> {
  const client = ctx.client();
  const body = runBody(params, opts);
  const { dagRunId } = await client.post<{ dagRunId: string }>(`/dags/${enc(dag)}/start`, body);
  if (!opts.wait && !opts.follow) {
    if (ctx.json) printJson({ name: dag, dagRunId });
    else {
      say(`started ${dag} run ${dagRunId}`);
      say(`follow it with: dagflare status ${dag} ${dagRunId}   (or start with --follow)`);
    }
    return EXIT.ok;
  }
  if (!ctx.json) say(`started ${dag} run ${dagRunId}`);
  const run = await watchRun(client, dag, dagRunId, {
    logs: opts.follow === true && !ctx.json,
    tty: process.stdout.isTTY === true && !ctx.json,
    quiet: ctx.json || !opts.follow,
  });
  return finished(ctx, run);
}

/** Prints how a run ended; 0 only when it succeeded. */
export function finished(ctx: Context, run: RunDetails): number {
  if (ctx.json) printJson(run);
  else {
    say(`run ${run.dagRunId} ${status(run.statusLabel)} in ${duration(run.startedAt, run.finishedAt)}`);
    for (const n of run.nodes) {
      if (n.statusLabel === "failed" || n.statusLabel === "rejected") {
        const exit = n.exitCode !== undefined ? ` (exit ${n.exitCode})` : "";
        say(`  ${n.step.name}: ${n.statusLabel}${exit}${n.error ? `: ${n.error}` : ""}`);
        say(`  its log: dagflare logs ${run.name} ${run.dagRunId} ${n.step.name}`);
      }
    }
  }
  return run.statusLabel === "succeeded" ? EXIT.ok : EXIT.failed;
}

/** KEY=VALUE (or a bare value) as one of Dagu's param words, quoted as the server splits them. */
function paramWord(arg: string): string {
  const eq = arg.indexOf("=");
  const [key, value] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [undefined, arg];
  if (key !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new CliError(`parameter "${arg}": the name before = must be letters, digits and _`, EXIT.usage);
  }
  return key === undefined ? shellQuote(value) : `${key}=${shellQuote(value)}`;
}
