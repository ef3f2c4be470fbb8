// The commands of dagflare, their flags, help and exit codes. Wiring only.
import { Command, CommanderError } from "commander";
import { decide, retry, stop } from "./commands/control.ts";
import { dry } from "./commands/dry.ts";
import { login, logout } from "./commands/login.ts";
import { logs } from "./commands/logs.ts";
import { push } from "./commands/push.ts";
import { runs, status } from "./commands/runs.ts";
import { type EnqueueFlags, enqueue, type StartFlags, start } from "./commands/start.ts";
import { validate } from "./commands/validate.ts";
import { Context, type GlobalOptions } from "./context.ts";
import { CliError, EXIT } from "./errors.ts";

declare const DAGFLARE_VERSION: string;

type Action = (ctx: Context, cmd: Command) => Promise<number> | number;

/** The flags every command that talks to the server takes, and its examples in --help. */
function command(program: Command, spec: string, summary: string, examples: string[], action: Action): Command {
  const cmd = program
    .command(spec)
    .description(summary)
    .option("--server <url>", "the dagflare server (default: $DAGFLARE_SERVER, else the saved login)")
    .option("--json", "print JSON for scripts instead of text for people")
    .addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);
  cmd.action(async () => {
    process.exitCode = await action(new Context(cmd.opts<GlobalOptions>()), cmd);
  });
  return cmd;
}

/** The flags of a new run, the same for `start` and `enqueue`. */
function runOptions(cmd: Command): void {
  cmd
    .option("--run-id <id>", "the new run's id (default: a new UUIDv7)")
    .option("--context <name>", "a context whose variables the run gets under the DAG's env")
    .option(
      "--parameter-set <name>",
      "a parameter set whose params go over the DAG's defaults, under those given here",
    );
}

function program(): Command {
  const p = new Command("dagflare")
    .description("Run and manage dagflare DAGs from the terminal. Token: DAGFLARE_TOKEN, else `dagflare login`.")
    .version(typeof DAGFLARE_VERSION === "string" ? DAGFLARE_VERSION : "dev")
    .enablePositionalOptions()
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  const arg = (cmd: Command, i: number) => cmd.args[i] as string;
  const opt = <T>(cmd: Command) => cmd.opts<T & GlobalOptions>();

  command(
    p,
    "login",
    "check a server and its API token and save them for later commands",
    [
      "dagflare login --server https://dagflare.example.workers.dev",
      "echo $TOKEN | dagflare login --server https://dagflare.example.workers.dev --with-token",
    ],
    (ctx, cmd) => login(ctx, opt<{ withToken?: boolean }>(cmd)),
  ).option("--with-token", "read the token from standard input");
  command(p, "logout", "forget the saved server and token", ["dagflare logout"], (ctx) => logout(ctx));
  command(
    p,
    "validate <files...>",
    "validate DAG files on the server; errors as file:line: message, exit 1 on any",
    ["dagflare validate dags/*.yaml", "dagflare validate dags/"],
    (ctx, cmd) => validate(ctx, cmd.args),
  );
  command(
    p,
    "push <paths...>",
    "create or update DAGs from YAML files or folders (each DAG named after its file)",
    ["dagflare push dags/", "dagflare push dags/ --prune --dry-run", "dagflare push etl.yaml report.yaml"],
    (ctx, cmd) => push(ctx, cmd.args, opt<{ prune?: boolean; dryRun?: boolean }>(cmd)),
  )
    .option("--prune", "delete the server's DAGs that are not in the folders")
    .option("--dry-run", "say what would change, change nothing");
  const startCmd = command(
    p,
    "start <dag> [params...]",
    "start a run; parameters after -- as KEY=VALUE",
    [
      "dagflare start etl",
      "dagflare start etl --follow -- DATE=2026-01-31 REGION=eu",
      "dagflare start etl --wait --json",
      "dagflare start etl --context prod --parameter-set nightly -- DATE=2026-01-31",
    ],
    (ctx, cmd) => start(ctx, arg(cmd, 0), cmd.args.slice(1), opt<StartFlags>(cmd)),
  )
    .option("--wait", "wait until the run ends; exit 0 only if it succeeded")
    .option("--follow", "show the run live, with each step's log; exit 0 only if it succeeded");
  runOptions(startCmd);
  const enqueueCmd = command(
    p,
    "enqueue <dag> [params...]",
    "put a run on the DAG's queue (or --queue) and return; parameters after -- as KEY=VALUE",
    [
      "dagflare enqueue etl -- DATE=2026-01-31",
      "dagflare enqueue etl --queue nightly --run-id etl-2026-01-31",
      "dagflare enqueue etl --json",
    ],
    (ctx, cmd) => enqueue(ctx, arg(cmd, 0), cmd.args.slice(1), opt<EnqueueFlags>(cmd)),
  ).option("--queue <name>", "a named queue instead of the DAG's own (its `queue:`, else its name)");
  runOptions(enqueueCmd);
  command(
    p,
    "status <dag> [run]",
    "a run's steps: status, duration, exit code (default: the latest run)",
    ["dagflare status etl", "dagflare status etl 0193a0c4-7d2e-7c41-9f0e-5b2d1f8e9a10 --json"],
    (ctx, cmd) => status(ctx, arg(cmd, 0), cmd.args[1]),
  );
  command(
    p,
    "runs [dag]",
    "recent runs, of one DAG or of all",
    ["dagflare runs", "dagflare runs etl --status failed --limit 5"],
    (ctx, cmd) => runs(ctx, cmd.args[0], opt<{ status?: string; limit?: string }>(cmd)),
  )
    .option("--status <list>", "only runs with these statuses (e.g. failed,aborted)")
    .option("--limit <n>", "at most this many runs (default 20)");
  command(
    p,
    "logs <dag> <run> [step]",
    "a step's log (stdout, or --stderr), or the run's own log without a step; `latest` names the latest run",
    ["dagflare logs etl latest extract", "dagflare logs etl latest extract -f", "dagflare logs etl latest"],
    (ctx, cmd) => logs(ctx, arg(cmd, 0), arg(cmd, 1), cmd.args[2], opt<{ follow?: boolean; stderr?: boolean }>(cmd)),
  )
    .option("-f, --follow", "keep printing until the step (or run) ends")
    .option("--stderr", "the step's stderr instead of its stdout");
  command(
    p,
    "stop <dag> [run]",
    "stop a run: its running steps are killed (default: the latest run)",
    ["dagflare stop etl", "dagflare stop etl 0193a0c4-7d2e-7c41-9f0e-5b2d1f8e9a10"],
    (ctx, cmd) => stop(ctx, arg(cmd, 0), cmd.args[1]),
  );
  command(
    p,
    "retry <dag> <run>",
    "run a finished run again in place: every step, one step, or the failed ones",
    ["dagflare retry etl latest --failed-only", "dagflare retry etl latest --step load --dependents"],
    (ctx, cmd) =>
      retry(ctx, arg(cmd, 0), arg(cmd, 1), opt<{ step?: string; failedOnly?: boolean; dependents?: boolean }>(cmd)),
  )
    .option("--step <name>", "only this step")
    .option("--dependents", "with --step: the steps after it too")
    .option("--failed-only", "only the failed, aborted and rejected steps");
  for (const approved of [true, false]) {
    command(
      p,
      `${approved ? "approve" : "reject"} <dag> <run> <step>`,
      approved
        ? "approve a step waiting for approval: it runs"
        : "reject a step waiting for approval: the run ends rejected",
      [`dagflare ${approved ? "approve" : "reject"} deploy latest release --reason "checked by ops"`],
      (ctx, cmd) => decide(ctx, approved, arg(cmd, 0), arg(cmd, 1), arg(cmd, 2), opt<{ reason?: string }>(cmd)),
    ).option("--reason <text>", "why, kept with the run");
  }
  command(
    p,
    "dry <file>",
    "the plan of a DAG file, checked by the server: its steps in order and in layers, without running",
    ["dagflare dry dags/etl.yaml"],
    (ctx, cmd) => dry(ctx, arg(cmd, 0)),
  );
  // Listed here for --help only: main.ts hands `dagflare runner ...` to the runner, whose flags
  // this parser never sees.
  p.command("runner [flags...]").description(
    "run steps on this host: the dagflare runner (see `dagflare runner --help` for its flags)",
  );
  return p;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT.failed;
    }
  }
}
