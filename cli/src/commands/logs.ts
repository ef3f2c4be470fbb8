// dagflare logs DAG RUN [STEP] [-f]: a step's log (or the run's own log without STEP); -f
// follows it until the step (or run) has ended.
import { allNodes, enc, type RunDetails, runPath, TERMINAL_RUN, TERMINAL_STEP } from "../api-types.ts";
import type { Context } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { LogTail } from "../log-tail.ts";
import { printJson } from "../output.ts";

const FIRST_POLL_MS = 200;
const MAX_POLL_MS = 2_000;

export async function logs(
  ctx: Context,
  dag: string,
  run: string,
  step: string | undefined,
  opts: { follow?: boolean; stderr?: boolean },
): Promise<number> {
  const client = ctx.client();
  const base = runPath(dag, run);
  const path = step ? `${base}/steps/${enc(step)}/log?stream=${opts.stderr ? "stderr" : "stdout"}` : `${base}/log`;
  if (ctx.json) {
    if (opts.follow) throw new CliError("--json prints a log once; leave out --follow", EXIT.usage);
    printJson(await client.get(path));
    return EXIT.ok;
  }
  const tail = new LogTail(client, path);
  let delay = FIRST_POLL_MS;
  for (;;) {
    // Whether it has ended is read before the log, so that the last read sees everything.
    const ended = !opts.follow || (await hasEnded(ctx, base, step));
    let wrote = false;
    for (let more = true; more; ) {
      const next = await tail.next(ended);
      process.stdout.write(next.text);
      wrote ||= next.text !== "";
      more = next.more;
    }
    if (ended) return EXIT.ok;
    delay = wrote ? FIRST_POLL_MS : Math.min(MAX_POLL_MS, Math.round(delay * 1.5));
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function hasEnded(ctx: Context, base: string, step: string | undefined): Promise<boolean> {
  const { dagRunDetails: d } = await ctx.client().get<{ dagRunDetails: RunDetails }>(base);
  if (TERMINAL_RUN.has(d.statusLabel)) return true;
  if (step === undefined) return false;
  const node = allNodes(d).find((n) => n.step.name === step);
  if (!node) throw new CliError(`run ${d.dagRunId} of ${d.name} has no step "${step}"`);
  return TERMINAL_STEP.has(node.statusLabel);
}
