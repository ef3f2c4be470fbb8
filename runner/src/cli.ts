// dagflare-runner: leases steps from a dagflare server and runs them as processes on this host.
// Wiring only: flags, credentials, logging, signals and exit codes. `bin.ts` runs it.
import { AuthError, RunnerClient } from "./client.ts";
import { parseConfig, type RunnerConfig, USAGE, UsageError } from "./config.ts";
import { readTokenFile } from "./credentials.ts";
import { setShellAlways } from "./direct-exec.ts";
import { setLauncher } from "./launch.ts";
import { LeaseLoop } from "./lease-loop.ts";
import { prepareLauncher, setGroupWatcher, setStepUser } from "./process-group.ts";
import { RunFiles, SWEEP_INTERVAL_MS } from "./run-files.ts";
import { keepRunnerEnv } from "./runner-env.ts";
import { flushLog, logLine } from "./runner-log.ts";
import { chooseStepUser, type StepUser } from "./step-user.ts";
import { applyRunnerV8Flags, RUNNER_V8_FLAGS } from "./v8-flags.ts";
import { Watchdog } from "./watchdog.ts";

/** How long steps get to end on SIGTERM during a forced shutdown: the user asked twice. */
const FORCED_GRACE_MS = 1_000;

const EXIT_DRAINED = 0;
const EXIT_FORCED = 1;
const EXIT_USAGE = 2;
const EXIT_AUTH = 3;
const EXIT_BUG = 70;

// A runner whose log pipe closed (its supervisor went away) goes on with its steps: a failed log
// write must not become an uncaught error, whose report would be another failed write.
process.stderr.on("error", () => {});
process.stdout.on("error", () => {});

const log = logLine;

/** Runs the runner with `argv` (the arguments after the program name); exits the process when done. */
export async function main(argv: string[]): Promise<void> {
  // First: the runner's V8 settings (v8-flags.ts).
  applyRunnerV8Flags();
  let config: RunnerConfig | "help";
  let token = "";
  let stepUser: StepUser | undefined;
  let runFiles: RunFiles | undefined;
  try {
    config = parseConfig(argv, process.env);
    if (config !== "help") {
      if (config.tokenFile !== undefined) token = readTokenFile(config.tokenFile);
      stepUser = chooseStepUser(config.runAs, process.getuid?.() ?? -1, log);
      runFiles = new RunFiles({ dir: config.logDir, retentionDays: config.logRetentionDays, stepUser });
      const problem = runFiles.check();
      if (problem !== undefined) throw new UsageError(`--log-dir: ${problem}`);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    flushLog();
    process.stderr.write(`dagflare-runner: ${err.message}\nRun dagflare-runner --help for the flags.\n`);
    process.exit(EXIT_USAGE);
  }
  if (config === "help" || runFiles === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const { server, concurrency, labels, runnerId, transport, launcher, shellAlways, earlyStart, earlyStartDepth } =
    config;
  // Steps must not outlive a runner that is killed outright (SIGKILL): see watchdog.ts.
  setGroupWatcher(new Watchdog());
  setStepUser(stepUser);
  setLauncher(launcher, log);
  setShellAlways(shellAlways);
  log(`steps are started with ${prepareLauncher()}`);
  keepRunnerEnv();
  const client = new RunnerClient({ server, token, log });
  const loop = new LeaseLoop({
    client,
    runnerId,
    labels,
    concurrency,
    log,
    runnerToken: token,
    transport,
    runFiles,
    earlyStart,
    earlyStartDepth,
  });
  const sweep = (files: RunFiles) => {
    const { removed } = files.sweep();
    if (removed.length)
      log(`removed the files of ${removed.length} run(s) older than ${config.logRetentionDays} day(s)`);
  };
  sweep(runFiles);
  setInterval(sweep, SWEEP_INTERVAL_MS, runFiles).unref();
  const stopNow = (code: number) =>
    void loop.abort({ graceMs: FORCED_GRACE_MS, release: code !== EXIT_AUTH }).finally(() => process.exit(code));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log(
        `${signal}: draining; ${loop.runningSteps} running step(s) will finish and report. ${signal} again to stop them.`,
      );
      loop.drain();
    } else if (signals === 2) {
      log(`${signal} again: stopping running steps and giving their leases back`);
      stopNow(EXIT_FORCED);
    } else {
      process.exit(EXIT_FORCED);
    }
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // Steps run detached from the runner: if a bug ends the runner, it must take them down with it.
  const onBug = (err: unknown) => {
    log(`runner bug: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}; stopping`);
    stopNow(EXIT_BUG);
  };
  process.on("uncaughtException", onBug);
  process.on("unhandledRejection", onBug);

  const labelText =
    Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",") || "none";
  log(`runner ${runnerId} polling ${server} with ${concurrency} slot(s), labels ${labelText}`);
  if (stepUser) log(`steps run as ${stepUser.name} (uid ${stepUser.uid})`);
  log(`runs' files on this host go to ${runFiles.dir} (kept ${config.logRetentionDays} day(s))`);
  log(`V8 settings for a small idle footprint: ${RUNNER_V8_FLAGS.join(" ")}`);
  if (token === "") log("no runner token given: only an open (local) server will accept this runner");
  loop.run().then(
    () => {
      log("drained; exiting");
      process.exit(EXIT_DRAINED);
    },
    (err: unknown) => {
      if (err instanceof AuthError) {
        log(`the server refused the runner token (${err.message}); check the token file`);
        stopNow(EXIT_AUTH);
      } else {
        onBug(err);
      }
    },
  );
}
