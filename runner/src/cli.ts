#!/usr/bin/env node
// dagflare-runner: leases steps from a dagflare server and runs them as processes on this host.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { AuthError, RunnerClient } from "./client.ts";
import { LeaseLoop } from "./lease-loop.ts";

const USAGE = `usage: dagflare-runner [options]

  --server URL        dagflare server (default: $DAGFLARE_SERVER or http://127.0.0.1:8787)
  --token TOKEN       runner token (default: $DAGFLARE_RUNNER_TOKEN)
  --concurrency N     steps run at once (default: 4)
  --labels k=v,...    labels of this runner
  --id NAME           runner id (default: <hostname>-<pid>-<random>)
  --help              this text

SIGTERM or SIGINT: stop leasing, let running steps finish, exit. A second one: kill running
steps, give their leases back, exit at once.`;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

function fail(message: string): never {
  process.stderr.write(`dagflare-runner: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(",").filter((p) => p.trim() !== "")) {
    const m = /^\s*([A-Za-z0-9_./-]+)=(.*?)\s*$/.exec(part);
    if (!m?.[1]) throw new Error(`bad label "${part}": expected key=value`);
    labels[m[1]] = m[2] ?? "";
  }
  return labels;
}

function main(): void {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        server: { type: "string" },
        token: { type: "string" },
        concurrency: { type: "string" },
        labels: { type: "string" },
        id: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const server = String(values.server ?? process.env.DAGFLARE_SERVER ?? "http://127.0.0.1:8787");
  try {
    new URL(server);
  } catch {
    fail(`--server "${server}" is not a URL`);
  }
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) fail("--concurrency must be 1..64");
  let labels: Record<string, string> = {};
  try {
    labels = parseLabels(String(values.labels ?? ""));
  } catch (err) {
    fail((err as Error).message);
  }
  const runnerId = String(values.id ?? `${hostname()}-${process.pid}-${randomBytes(2).toString("hex")}`);
  const token = String(values.token ?? process.env.DAGFLARE_RUNNER_TOKEN ?? "");

  const client = new RunnerClient({ server, token: token || undefined, log });
  const loop = new LeaseLoop({ client, runnerId, labels, concurrency, log });
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals === 1) {
      log(`${sig}: draining (no new leases; ${loop.running.size} running step(s) will finish). Again to stop at once.`);
      loop.drain();
    } else {
      log(`${sig} again: killing running steps and giving their leases back`);
      void loop.abortAll().finally(() => process.exit(1));
    }
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  log(`runner ${runnerId} polling ${server} with ${concurrency} slot(s)`);
  loop.run().then(
    () => {
      log("drained; exiting");
      process.exit(0);
    },
    (err) => {
      log(err instanceof AuthError ? `the server refused the runner token: ${err.message}` : String(err));
      process.exit(err instanceof AuthError ? 3 : 1);
    },
  );
}

main();
