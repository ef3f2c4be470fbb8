// dagflare stop, retry, approve and reject: the run controls of the API.
import { enc, type RunDetails, runPath } from "../api-types.ts";
import type { Context } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { printJson, say } from "../output.ts";

/** The run's real id (`latest` resolved), which retry needs in its body. */
async function runId(ctx: Context, dag: string, run: string): Promise<string> {
  if (run !== "latest") return run;
  const { dagRunDetails } = await ctx.client().get<{ dagRunDetails: RunDetails }>(runPath(dag, run));
  return dagRunDetails.dagRunId;
}

function done(ctx: Context, result: Record<string, unknown>, line: string): number {
  if (ctx.json) printJson(result);
  else say(line);
  return EXIT.ok;
}

export async function stop(ctx: Context, dag: string, run = "latest"): Promise<number> {
  const id = await runId(ctx, dag, run);
  await ctx.client().post(`${runPath(dag, id)}/stop`);
  return done(
    ctx,
    { name: dag, dagRunId: id, stopped: true },
    `stopping ${dag} run ${id}: its running steps are being killed`,
  );
}

export async function retry(
  ctx: Context,
  dag: string,
  run: string,
  opts: { step?: string; failedOnly?: boolean; dependents?: boolean },
): Promise<number> {
  if (opts.step && opts.failedOnly) throw new CliError("give either --step or --failed-only, not both", EXIT.usage);
  if (opts.dependents && !opts.step) throw new CliError("--dependents needs --step", EXIT.usage);
  const id = await runId(ctx, dag, run);
  await ctx.client().post(`${runPath(dag, id)}/retry`, {
    dagRunId: id,
    ...(opts.step && { stepName: opts.step }),
    ...(opts.dependents && { dependents: true }),
    ...(opts.failedOnly && { failedOnly: true }),
  });
  const what = opts.step
    ? `step ${opts.step}${opts.dependents ? " and its dependents" : ""}`
    : opts.failedOnly
      ? "its failed steps"
      : "every step";
  return done(
    ctx,
    { name: dag, dagRunId: id, retried: true },
    `retrying ${what} of ${dag} run ${id}: dagflare status ${dag} ${id}`,
  );
}

export async function decide(
  ctx: Context,
  approved: boolean,
  dag: string,
  run: string,
  step: string,
  opts: { reason?: string },
): Promise<number> {
  const id = await runId(ctx, dag, run);
  const res = await ctx
    .client()
    .post<{ stepName: string; statusLabel: string }>(
      `${runPath(dag, id)}/steps/${enc(step)}/${approved ? "approve" : "reject"}`,
      opts.reason ? { reason: opts.reason } : {},
    );
  return done(
    ctx,
    { name: dag, dagRunId: id, ...res },
    `${approved ? "approved" : "rejected"} ${step} of ${dag} run ${id}`,
  );
}
