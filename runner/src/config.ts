// The runner's command line: flags, their environment defaults, and validation with messages
// that say which flag is wrong and why.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { homedir, hostname } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { MAX_LEASES_PER_REQUEST } from "../../src/shared/protocol.ts";
import { DEFAULT_POOL, POOL_LABEL, POOL_NAME } from "../../src/shared/selector.ts";

/** How long a run's files on the host stay after their last write (run-files.ts), in days. */
export const DEFAULT_RETENTION_DAYS = 7;

export const USAGE = `usage: dagflare-runner [options]

  --server URL       dagflare server (default: $DAGFLARE_SERVER, else http://127.0.0.1:8787)
  --token-file FILE  file holding the runner token, readable only by the runner's user (default:
                     $DAGFLARE_RUNNER_TOKEN_FILE, else systemd's $CREDENTIALS_DIRECTORY/runner-token;
                     none for an open local server)
  --run-as USER      run steps as this user (default: $DAGFLARE_RUNNER_RUN_AS; required when the
                     runner runs as root: give an unprivileged user, or root to accept the risk)
  --concurrency N    steps run at once, 1-${MAX_LEASES_PER_REQUEST} (default: 4)
  --labels k=v,...   labels of this runner, matched against steps' workerSelector (default: none)
  --pool NAME        runner pool: only steps of this pool are taken (default: $DAGFLARE_RUNNER_POOL, else "default")
  --id NAME          runner id (default: <hostname>-<pid>-<random>)
  --log-dir DIR      where each run's files on this host go (DAG_RUN_LOG_FILE, the steps' stdout
                     and stderr files) (default: $DAGFLARE_RUNNER_LOG_DIR, else systemd's
                     $LOGS_DIRECTORY, else $XDG_STATE_HOME/dagflare-runner/logs, else
                     ~/.local/state/dagflare-runner/logs)
  --log-retention-days N
                     a run's files are removed once nothing was written to them for N days,
                     1-3650 (default: ${DEFAULT_RETENTION_DAYS})
  --transport T      socket: one WebSocket carries leases and results, HTTP when it cannot open
                     or drops; http: HTTP only (default: $DAGFLARE_RUNNER_TRANSPORT, else socket)
  --launcher L       posix-spawn: the runner starts each step with the C library's posix_spawn
                     (Linux, steps of the runner's own user; else helper);
                     helper: a small long-lived helper process forks the steps (needs perl);
                     spawn: Node's spawn, which holds the runner up for each start
                     (default: $DAGFLARE_RUNNER_LAUNCHER, else posix-spawn; spawn when perl is missing)
  --shell-always     run every step through its shell, even a simple command such as
                     \`/usr/bin/make all\` that is otherwise exec'd directly
                     (default: on when $DAGFLARE_RUNNER_SHELL_ALWAYS is 1)
  --no-early-start   start a chain's next step only once the server leased it, not as soon as
                     the step before exits 0 (default: early start on, off when
                     $DAGFLARE_RUNNER_EARLY_START is 0; --early-start turns it on)
  --early-start-depth N
                     run at most N steps of a chain ahead of the last one the server leased,
                     1-64 (default: as many as the server offers, 16)
  --help             show this text

SIGTERM or SIGINT: stop leasing, let running steps finish and report, exit 0.
A second one: stop running steps, give their leases back, exit 1.`;

/** How steps are started: see launch.ts. */
export const LAUNCHERS = ["posix-spawn", "helper", "spawn"] as const;
export type Launcher = (typeof LAUNCHERS)[number];

export interface RunnerConfig {
  server: string;
  /** Where the runner token is read from; undefined for an open local server. */
  tokenFile: string | undefined;
  /** The user steps run as (a name or a numeric uid); undefined: the runner's own. */
  runAs: string | undefined;
  concurrency: number;
  labels: Record<string, string>;
  runnerId: string;
  transport: "socket" | "http";
  /** Where the runs' files on this host go (run-files.ts). */
  logDir: string;
  logRetentionDays: number;
  launcher: Launcher;
  /** Every step through its shell: no simple command exec'd directly (direct-exec.ts). */
  shellAlways: boolean;
  /** Start a chain's offered successor when its predecessor exits 0 (early-start.ts). */
  earlyStart: boolean;
  /** At most this many steps run ahead of a leased one; undefined: as many as offered. */
  earlyStartDepth: number | undefined;
}

export class UsageError extends Error {
  override name = "UsageError";
}

/** The name of the runner token among a systemd service's credentials (LoadCredential=). */
export const SYSTEMD_CREDENTIAL = "runner-token";
const DEFAULT_SERVER = "http://127.0.0.1:8787";
const DEFAULT_CONCURRENCY = 4;
const MAX_RUNNER_ID_CHARS = 200;
const MAX_RETENTION_DAYS = 3650;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]*$/;

/** `"help"` when --help was asked for; throws UsageError on a bad flag. */
export function parseConfig(argv: string[], env: Record<string, string | undefined>): RunnerConfig | "help" {
  let values: { [flag: string]: string | boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: "string" },
        token: { type: "string" },
        "token-file": { type: "string" },
        "run-as": { type: "string" },
        concurrency: { type: "string" },
        labels: { type: "string" },
        pool: { type: "string" },
        id: { type: "string" },
        transport: { type: "string" },
        "log-dir": { type: "string" },
        "log-retention-days": { type: "string" },
        launcher: { type: "string" },
        "shell-always": { type: "boolean" },
        "early-start": { type: "boolean" },
        "no-early-start": { type: "boolean" },
        "early-start-depth": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  const str = (flag: string) => (typeof values[flag] === "string" ? (values[flag] as string) : undefined);
  // A token on the command line is in /proc/PID/cmdline, readable by every process of the host;
  // one in the environment is in /proc/PID/environ, readable by every process of the same user,
  // steps included. The runner never accepts either.
  if (str("token") !== undefined) {
    throw new UsageError(
      "--token is not accepted: a token on the command line can be read by every process on this host; write it to a file only the runner's user can read and pass --token-file FILE",
    );
  }
  if (env.DAGFLARE_RUNNER_TOKEN !== undefined) {
    throw new UsageError(
      "DAGFLARE_RUNNER_TOKEN is set: a token in the runner's environment can be read by its steps (/proc/PID/environ); write it to a file only the runner's user can read and set DAGFLARE_RUNNER_TOKEN_FILE instead",
    );
  }
  return {
    server: parseServer(str("server") ?? env.DAGFLARE_SERVER ?? DEFAULT_SERVER),
    tokenFile: tokenFileOf(str("token-file"), env),
    runAs: nonEmpty("--run-as", str("run-as") ?? env.DAGFLARE_RUNNER_RUN_AS),
    concurrency: parseConcurrency(str("concurrency")),
    labels: withPool(parseLabels(str("labels") ?? ""), str("pool") ?? env.DAGFLARE_RUNNER_POOL),
    runnerId: parseRunnerId(str("id")),
    transport: parseTransport(str("transport") ?? env.DAGFLARE_RUNNER_TRANSPORT),
    logDir: logDirOf(str("log-dir"), env),
    logRetentionDays: parseRetentionDays(str("log-retention-days")),
    launcher: parseLauncher(str("launcher") ?? env.DAGFLARE_RUNNER_LAUNCHER),
    shellAlways: values["shell-always"] === true || env.DAGFLARE_RUNNER_SHELL_ALWAYS === "1",
    earlyStart: parseEarlyStart(values["early-start"] === true, values["no-early-start"] === true, env),
    earlyStartDepth: parseDepth(str("early-start-depth")),
  };
}

/** The token file: the flag, else the environment, else systemd's credential when there is one. */
function tokenFileOf(flag: string | undefined, env: Record<string, string | undefined>): string | undefined {
  const named = nonEmpty("--token-file", flag ?? env.DAGFLARE_RUNNER_TOKEN_FILE);
  if (named !== undefined) return named;
  const dir = env.CREDENTIALS_DIRECTORY;
  if (dir && existsSync(path.join(dir, SYSTEMD_CREDENTIAL))) return path.join(dir, SYSTEMD_CREDENTIAL);
  return undefined;
}

/** The flag, else the environment, else systemd's LogsDirectory=, else the XDG state directory. */
function logDirOf(flag: string | undefined, env: Record<string, string | undefined>): string {
  const named = nonEmpty("--log-dir", flag ?? env.DAGFLARE_RUNNER_LOG_DIR);
  if (named !== undefined) return path.resolve(named);
  // systemd may list several directories (LogsDirectory=a b), separated by colons: the first is ours.
  const systemd = env.LOGS_DIRECTORY?.split(":")[0];
  if (systemd) return systemd;
  const state = env.XDG_STATE_HOME || path.join(env.HOME || homedir(), ".local", "state");
  return path.join(state, "dagflare-runner", "logs");
}

function parseRetentionDays(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RETENTION_DAYS;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(n >= 1 && n <= MAX_RETENTION_DAYS)) {
    throw new UsageError(`--log-retention-days "${text}" must be a whole number from 1 to ${MAX_RETENTION_DAYS}`);
  }
  return n;
}

function nonEmpty(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") throw new UsageError(`${flag} must not be empty`);
  return text;
}

function parseServer(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--server "${text}" is not a URL (expected e.g. https://dagflare.example.com)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--server "${text}" must be an http:// or https:// URL`);
  }
  if (url.search || url.hash) throw new UsageError(`--server "${text}" must not have a query or fragment`);
  return url.href.replace(/\/+$/, "");
}

/** On unless --no-early-start, or DAGFLARE_RUNNER_EARLY_START=0 without --early-start. */
function parseEarlyStart(on: boolean, off: boolean, env: Record<string, string | undefined>): boolean {
  if (on && off) throw new UsageError("--early-start and --no-early-start contradict each other: give one");
  if (on || off) return on;
  const text = env.DAGFLARE_RUNNER_EARLY_START;
  if (text === undefined || text === "1") return true;
  if (text === "0") return false;
  throw new UsageError(`DAGFLARE_RUNNER_EARLY_START "${text}" must be 0 or 1`);
}

function parseDepth(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(n >= 1 && n <= 64)) throw new UsageError(`--early-start-depth "${text}" must be a whole number from 1 to 64`);
  return n;
}

function parseTransport(text: string | undefined): "socket" | "http" {
  if (text === undefined || text === "socket" || text === "http") return text ?? "socket";
  throw new UsageError(`--transport "${text}" must be socket or http`);
}

function parseLauncher(text: string | undefined): Launcher {
  if (text === undefined) return "posix-spawn";
  const launcher = LAUNCHERS.find((l) => l === text);
  if (launcher === undefined) throw new UsageError(`--launcher "${text}" must be ${LAUNCHERS.join(", ")}`);
  return launcher;
}

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CONCURRENCY;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LEASES_PER_REQUEST)) {
    throw new UsageError(`--concurrency "${text}" must be a whole number from 1 to ${MAX_LEASES_PER_REQUEST}`);
  }
  return n;
}

export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of text.split(",")) {
    if (item.trim() === "") continue;
    const eq = item.indexOf("=");
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    if (eq < 0 || !LABEL_KEY.test(key)) {
      throw new UsageError(`--labels: "${item.trim()}" is not key=value (keys: letters, digits, _ . / -)`);
    }
    if (key in labels) throw new UsageError(`--labels: "${key}" is given twice`);
    labels[key] = item.slice(eq + 1).trim();
  }
  return labels;
}

/** The pool is the runner's `pool` label, always sent, so GET /workers shows it. */
function withPool(labels: Record<string, string>, pool: string | undefined): Record<string, string> {
  const fromLabels = labels[POOL_LABEL];
  if (pool !== undefined && fromLabels !== undefined && pool !== fromLabels) {
    throw new UsageError(`--pool "${pool}" and --labels pool=${fromLabels} disagree; give the pool once`);
  }
  const name = pool ?? fromLabels ?? DEFAULT_POOL;
  if (!POOL_NAME.test(name)) throw new UsageError(`--pool "${name}" must be 1-64 letters, digits, _ or -`);
  return { ...labels, [POOL_LABEL]: name };
}

function parseRunnerId(text: string | undefined): string {
  if (text === undefined) {
    return `${hostname()}-${process.pid}-${randomBytes(2).toString("hex")}`.slice(0, MAX_RUNNER_ID_CHARS);
  }
  if (!/^\S+$/.test(text) || text.length > MAX_RUNNER_ID_CHARS) {
    throw new UsageError(`--id "${text}" must be 1-${MAX_RUNNER_ID_CHARS} characters without spaces`);
  }
  return text;
}
