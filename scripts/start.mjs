// `npm start`: the whole of dagflare on this machine. Local D1 migrations, the Worker under
// wrangler dev on http://127.0.0.1:8787 (local D1 and Durable Objects in .wrangler/state) and
// one local runner. Runs OPEN (no tokens): local development only.
import path from "node:path";
import { applyMigrations, assertPortFree, buildRunner, ROOT, startRunner, startWorker, stopGroup } from "./stack.mjs";

const port = Number(process.env.PORT ?? 8787);
// Local D1 and Durable Object state; wrangler's default (.wrangler/state) unless set.
const persistTo = process.env.DAGFLARE_STATE_DIR || undefined;
const concurrency = Number(process.env.DAGFLARE_RUNNER_CONCURRENCY ?? 4);
const say = (line) => process.stdout.write(`${line}\n`);

try {
  await assertPortFree(port);
} catch (err) {
  process.stderr.write(`dagflare: cannot start: ${err.message}\n`);
  process.exit(1);
}

say("dagflare: building the runner and applying local D1 migrations...");
buildRunner();
applyMigrations(persistTo);

const worker = await startWorker({
  port,
  persistTo,
  vars: { DAGFLARE_AUTH: "off", DAGFLARE_WEBHOOKS_LOOPBACK: "on" },
  log: (l) => say(`[worker] ${l}`),
});
const runner = startRunner({
  server: worker.url,
  concurrency,
  id: "local-runner",
  // The runs' files on this host (DAG_RUN_LOG_FILE, ...) live beside the local state.
  logDir: path.join(persistTo ?? path.join(ROOT, ".wrangler", "state"), "runner-logs"),
  log: (l) => say(`[runner] ${l}`),
});

say(`
************************************************************************
*  dagflare is running OPEN: authentication is OFF (DAGFLARE_AUTH=off). *
*  Local development only. A deployed Worker requires API tokens.      *
************************************************************************

UI:     ${worker.url}/
API:    ${worker.url}/api/v2   (one local runner, concurrency ${concurrency})

Submit a DAG and run it:

  curl -s -X POST ${worker.url}/api/v2/dags -H 'content-type: application/json' \\
    -d '{"name":"hello","spec":"steps:\\n  - name: greet\\n    command: echo hello from dagflare\\n"}'
  curl -s -X POST ${worker.url}/api/v2/dags/hello/start -H 'content-type: application/json' -d '{}'
  curl -s ${worker.url}/api/v2/dag-runs/hello/latest
  curl -s ${worker.url}/api/v2/dag-runs/hello/latest/steps/greet/log

Press Ctrl-C to stop.
`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  say("dagflare: stopping...");
  const runnerDone =
    runner.child.exitCode === null ? new Promise((r) => runner.child.once("exit", r)) : Promise.resolve();
  runner.child.kill("SIGTERM");
  await Promise.all([runnerDone, stopGroup(worker.child)]);
  process.exit(0);
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
runner.child.once("exit", (code) => {
  if (!stopping) say(`[runner] exited with ${code}`);
});
worker.child.once("exit", (code) => {
  if (!stopping) {
    say(`[worker] exited with ${code}`);
    void shutdown();
  }
});
