// Watching a run until it ends: in a terminal, a table of its steps (status, duration) redrawn
// in place with each step's log printed above it as it runs; elsewhere (a pipe, CI), one plain
// line per change. The REST API is polled with backoff: quickly while things change, slowly
// while they do not.
import logUpdate from "log-update";
import pc from "picocolors";
import { allNodes, enc, type RunDetails, runPath, type StepNode, TERMINAL_RUN, TERMINAL_STEP } from "./api-types.ts";
import type { ApiClient } from "./client.ts";
import { LogTail } from "./log-tail.ts";
import { duration, epochMs, pad, status } from "./output.ts";

/** What shells report for a command ended by Ctrl-C (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;
const FIRST_POLL_MS = 200;
const MAX_POLL_MS = 2_000;

const ICON: Record<string, string> = {
  succeeded: pc.green("✓"),
  failed: pc.red("✗"),
  rejected: pc.red("✗"),
  aborted: pc.yellow("■"),
  partially_succeeded: pc.yellow("✓"),
  running: pc.cyan("●"),
  retrying: pc.cyan("↻"),
  waiting: pc.magenta("?"),
  skipped: pc.dim("-"),
  not_started: pc.dim("○"),
};

export interface WatchOptions {
  /** Print each step's stdout and stderr as it runs. */
  logs: boolean;
  /** Redraw a table in place (a terminal) or print a line per change. */
  tty: boolean;
  /** Print nothing while waiting (`--wait`). */
  quiet?: boolean;
}

/** Polls the run until it has ended and every log shown was read to its end; returns its details. */
export async function watchRun(client: ApiClient, dag: string, runId: string, opts: WatchOptions): Promise<RunDetails> {
  const tails = new Map<string, StepLogs>();
  const seen = new Map<string, string>();
  let delay = FIRST_POLL_MS;
  // Ctrl-C stops watching, not the run: say so, and how to stop it.
  process.once("SIGINT", () => {
    if (opts.tty && !opts.quiet) logUpdate.done();
    process.stderr.write(`\nstopped watching; run ${runId} goes on. Stop it with: dagflare stop ${dag} ${runId}\n`);
    process.exit(EXIT_INTERRUPTED);
  });
  for (;;) {
    const { dagRunDetails: run } = await client.get<{ dagRunDetails: RunDetails }>(runPath(dag, runId));
    const nodes = allNodes(run);
    let changed = false;
    // Per step: that it started, then its new log lines, then how it ended.
    for (const node of nodes) {
      const ended = TERMINAL_STEP.has(node.statusLabel);
      const moved = seen.get(node.step.name) !== node.statusLabel && node.statusLabel !== "not_started";
      seen.set(node.step.name, node.statusLabel);
      changed ||= moved;
      const line = !opts.tty && !opts.quiet && moved ? `${stepLine(dag, runId, node)}\n` : "";
      if (!ended) process.stdout.write(line);
      // A step that never started (not yet, or skipped) has no log.
      if (opts.logs && epochMs(node.startedAt) !== undefined) {
        const t = tails.get(node.step.name) ?? new StepLogs(client, dag, runId, node.step.name);
        tails.set(node.step.name, t);
        const text = await t.read(ended || TERMINAL_RUN.has(run.statusLabel));
        if (text) {
          changed = true;
          print(opts, text, () => frame(run));
        }
      }
      if (ended) process.stdout.write(line);
    }
    if (opts.tty && !opts.quiet) logUpdate(frame(run));
    if (TERMINAL_RUN.has(run.statusLabel)) {
      if (opts.tty && !opts.quiet) logUpdate.done();
      return run;
    }
    delay = changed ? FIRST_POLL_MS : Math.min(MAX_POLL_MS, Math.round(delay * 1.5));
    await new Promise((r) => setTimeout(r, delay));
  }
}

function print(opts: WatchOptions, text: string, redraw: () => string): void {
  if (opts.quiet) return;
  if (opts.tty) logUpdate.clear();
  process.stdout.write(text);
  if (opts.tty) logUpdate(redraw());
}

function stepLine(dag: string, runId: string, node: StepNode): string {
  const label = node.statusLabel;
  const parts = [node.step.name, status(label)];
  if (label !== "running" && label !== "waiting") parts.push(duration(node.startedAt, node.finishedAt));
  if (node.exitCode !== undefined && label === "failed") parts.push(`exit ${node.exitCode}`);
  if (node.error) parts.push(pc.dim(node.error));
  if (label === "waiting") parts.push(pc.dim(`approve with: dagflare approve ${dag} ${runId} ${node.step.name}`));
  return parts.join("  ");
}

function frame(run: RunDetails): string {
  const nodes = allNodes(run);
  const width = Math.max(...nodes.map((n) => n.step.name.length));
  const head = `${pc.bold(run.name)} ${pc.dim(run.dagRunId)}  ${status(run.statusLabel)}  ${duration(run.startedAt, run.finishedAt)}`;
  const rows = nodes.map((n) => {
    const time = n.statusLabel === "not_started" ? "" : duration(n.startedAt, n.finishedAt);
    const extra = n.error ? `  ${pc.dim(n.error)}` : "";
    return `  ${ICON[n.statusLabel] ?? " "} ${n.step.name.padEnd(width)}  ${pad(status(n.statusLabel), 19)} ${time}${extra}`;
  });
  return [head, ...rows].join("\n");
}

/** A step's stdout and stderr, as lines prefixed with the step's name. */
class StepLogs {
  private readonly streams: Array<{ tail: LogTail; partial: string }>;
  private done = false;

  constructor(
    client: ApiClient,
    dag: string,
    runId: string,
    private readonly step: string,
  ) {
    const path = `${runPath(dag, runId)}/steps/${enc(step)}/log`;
    this.streams = ["stdout", "stderr"].map((s) => ({ tail: new LogTail(client, `${path}?stream=${s}`), partial: "" }));
  }

  /** New whole lines; with `final`, the rest too, after which the step's logs are not read again. */
  async read(final: boolean): Promise<string> {
    if (this.done) return "";
    let out = "";
    for (const s of this.streams) {
      let text = "";
      for (let more = true; more; ) {
        const next = await s.tail.next(final);
        if (next.restarted) out += `${pc.dim(`${this.step} | --- a new attempt ---`)}\n`;
        text += next.text;
        more = next.more;
      }
      const lines = (s.partial + text).split("\n");
      s.partial = lines.pop() ?? "";
      if (final && s.partial) {
        lines.push(s.partial);
        s.partial = "";
      }
      for (const l of lines) out += `${pc.dim(`${this.step} |`)} ${l}\n`;
    }
    if (final) this.done = true;
    return out;
  }
}
