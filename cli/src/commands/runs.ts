// dagflare status DAG [RUN] and dagflare runs [DAG]: a run's steps, and run history.
import { allNodes, enc, type RunDetails, type RunSummary, runPath } from "../api-types.ts";
import type { Context } from "../context.ts";
import { EXIT } from "../errors.ts";
import { status as colour, duration, printJson, say, table, when } from "../output.ts";

export async function status(ctx: Context, dag: string, run = "latest"): Promise<number> {
  const { dagRunDetails: d } = await ctx.client().get<{ dagRunDetails: RunDetails }>(runPath(dag, run));
  if (ctx.json) {
    printJson(d);
    return EXIT.ok;
  }
  say(`${d.name} run ${d.dagRunId}: ${colour(d.statusLabel)}`);
  say(
    `started ${when(d.startedAt)}, ${d.finishedAt && d.finishedAt !== "-" ? "took" : "running for"} ${duration(d.startedAt, d.finishedAt)}`,
  );
  if (d.params) say(`params: ${d.params}`);
  if (d.waitingFor) say(`waiting for: ${d.waitingFor}`);
  say();
  const rows = allNodes(d).map((n) => [
    n.step.name,
    colour(n.statusLabel),
    n.statusLabel === "not_started" ? "-" : duration(n.startedAt, n.finishedAt),
    n.exitCode === undefined ? "-" : String(n.exitCode),
    n.attempt ? String(n.attempt) : "-",
    n.error ?? n.runnerId ?? "",
  ]);
  for (const line of table(["STEP", "STATUS", "DURATION", "EXIT", "ATTEMPT", "RUNNER / ERROR"], rows)) say(line);
  return EXIT.ok;
}

export async function runs(ctx: Context, dag: string | undefined, opts: { status?: string; limit?: string }) {
  const query = new URLSearchParams();
  if (opts.status) query.set("status", opts.status);
  query.set("limit", opts.limit ?? "20");
  const path = dag ? `/dag-runs/${enc(dag)}` : "/dag-runs";
  const { dagRuns } = await ctx.client().get<{ dagRuns: RunSummary[] }>(`${path}?${query}`);
  if (ctx.json) {
    printJson(dagRuns);
    return EXIT.ok;
  }
  if (dagRuns.length === 0) {
    say(dag ? `DAG ${dag} has no runs yet: start one with dagflare start ${dag}` : "no runs yet");
    return EXIT.ok;
  }
  const rows = dagRuns.map((r) => [
    r.name,
    r.dagRunId,
    colour(r.statusLabel),
    when(r.startedAt),
    duration(r.startedAt, r.finishedAt),
  ]);
  for (const line of table(["DAG", "RUN", "STATUS", "STARTED", "DURATION"], rows)) say(line);
  return EXIT.ok;
}
