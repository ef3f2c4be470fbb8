// Starts dagflare locally: local D1 migrations, `wrangler dev` (workerd with local D1 and
// Durable Objects) and runner processes. Used by `npm start`, the end-to-end tests and the
// benchmark, so all three run the same stack.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const RUNNER_BUNDLE = path.join(ROOT, "runner", "dist", "runner.mjs");
export const BIN = path.join(ROOT, "node_modules", ".bin");

/** Wrangler stays offline and quiet. */
export const QUIET_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  NO_COLOR: "1",
};

/**
 * The project pins a Node for wrangler (which needs a newer Node than some machines have);
 * its bin folder goes first on PATH so that wrangler's `#!/usr/bin/env node` finds it.
 */
export function toolEnv(extra = {}) {
  return { ...process.env, ...QUIET_ENV, PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`, ...extra };
}

/**
 * Bundles the runner into one file that any Node >= 20 can run: `runner/dist/runner.mjs`, or
 * `outfile` (the tests build their own copy with the same options).
 */
export function buildRunner(outfile = RUNNER_BUNDLE, { readable = false } = {}) {
  buildSync({
    entryPoints: [path.join(ROOT, "runner", "src", "bin.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "warning",
    // No comments or blank lines (names kept, for readable stack traces): a smaller source for
    // V8 to keep, and all ASCII, which V8 stores at one byte a character instead of two (one
    // accented letter in a dependency's comment doubles the whole source in memory).
    // `readable`: one statement a line with esbuild's `// path` marks, for a CPU profile ranked
    // by source module (`npm run bench:profile`).
    minifyWhitespace: !readable,
    minifySyntax: true,
    // CommonJS dependencies (ws) require Node's built-ins; an ESM bundle needs `require` made.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    outfile,
  });
}

export function applyMigrations(persistTo) {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  const res = spawnSync(path.join(BIN, "wrangler"), args, {
    cwd: ROOT,
    env: toolEnv({ CI: "true" }),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (res.status !== 0) throw new Error(`applying D1 migrations failed:\n${res.stdout}\n${res.stderr}`);
}

/** Keeps the last 400 lines a child printed (for error messages) and passes each to `log`. */
function collectOutput(child, log) {
  const output = [];
  const onData = (buf) => {
    for (const line of buf.toString().split("\n")) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 400) output.shift();
      log?.(line);
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return output;
}

/**
 * Throws when something already listens on the port: `wrangler dev` would fail to bind it
 * while its health check, answered by that other server, made it look started.
 * @param {number} port
 */
export async function assertPortFree(port) {
  const taken = await new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (err) => resolve(err.code === "EADDRINUSE" ? true : err));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
  });
  if (taken === true) {
    throw new Error(
      `port ${port} on 127.0.0.1 is already in use (another dagflare, or another program); stop it or set PORT`,
    );
  }
  if (taken) throw taken;
}

/**
 * Starts `wrangler dev` and resolves once /api/v2/health answers.
 * @param {{ port: number, persistTo?: string, vars?: Record<string,string>, log?: (line: string) => void }} opts
 */
export async function startWorker(opts) {
  await assertPortFree(opts.port);
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(opts.port), "--show-interactive-dev-session=false"];
  if (opts.persistTo) args.push("--persist-to", opts.persistTo);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push("--var", `${k}:${v}`);
  const child = spawn(path.join(BIN, "wrangler"), args, {
    cwd: ROOT,
    env: toolEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output = collectOutput(child, opts.log);
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output.join("\n")}`);
    try {
      const res = await fetch(`${url}/api/v2/health`);
      if (res.ok) return { url, child, output, stop: () => stopGroup(child) };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stopGroup(child);
  throw new Error(`wrangler dev did not become healthy in 90 s:\n${output.join("\n")}`);
}

/**
 * A client of the Worker's API for scripts: `api(method, path, body?)` under `/api/v2`, with the
 * user token; a status other than 2xx throws with the error body.
 * @param {string} url @param {string} token
 */
export function apiClient(url, token) {
  return async function api(method, p, body) {
    const res = await fetch(`${url}/api/v2${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Writes a runner token where only this user can read it, as a runner wants it; returns the path. */
export function writeTokenFile(token) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "dagflare-token-")), "runner-token");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

/**
 * Starts one runner process from the bundle. Its token goes through a private file, never the
 * command line or the environment. Steps run as `runAs`; by default as this user, which for
 * root is said explicitly (`--run-as root`): this stack runs tests and local development.
 * @param {{ server: string, token?: string, concurrency?: number, labels?: string, id?: string, runAs?: string, logDir?: string, args?: string[], nodeArgs?: string[], env?: Record<string,string>, bundle?: string, log?: (line: string) => void }} opts
 */
export function startRunner(opts) {
  if (!existsSync(RUNNER_BUNDLE)) buildRunner();
  const args = ["--server", opts.server, "--concurrency", String(opts.concurrency ?? 4)];
  const tokenFile = opts.token ? writeTokenFile(opts.token) : undefined;
  if (tokenFile) args.push("--token-file", tokenFile);
  const runAs = opts.runAs ?? (process.getuid?.() === 0 ? "root" : undefined);
  if (runAs) args.push("--run-as", runAs);
  if (opts.labels) args.push("--labels", opts.labels);
  if (opts.id) args.push("--id", opts.id);
  // More flags (--launcher spawn, --no-early-start, ...).
  if (opts.args) args.push(...opts.args);
  // The runs' files on the runner's host (DAG_RUN_LOG_FILE, ...): the caller's folder, else a
  // fresh temporary one, never the developer's own state directory.
  args.push("--log-dir", opts.logDir ?? mkdtempSync(path.join(tmpdir(), "dagflare-runner-logs-")));
  const { DAGFLARE_RUNNER_TOKEN: _refusedByTheRunner, ...env } = process.env;
  const bundle = opts.bundle ?? RUNNER_BUNDLE;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), bundle, ...args], {
    cwd: ROOT,
    env: { ...env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collectOutput(child, opts.log);
  return { child, output, tokenFile };
}

/** Ends a process group (wrangler starts workerd as a child) and waits for the leader to exit. */
/**
 * A runner for the stage benchmarks (bench-stages.mjs, bench-fixed.mjs): `bundle` against
 * `server`, 10 slots, `extra` flags, its trace on (DAGFLARE_RUNNER_TRACE) in a file of its own;
 * `stop()` drains it and resolves to the trace's lines, parsed (the file is then removed).
 */
export function startTracedRunner({ bundle = RUNNER_BUNDLE, server, token, extra = [], id = "bench-runner" }) {
  const traceFile = path.join(mkdtempSync(path.join(tmpdir(), "dagflare-trace-")), "trace.jsonl");
  const args = [bundle, "--server", server, "--concurrency", "10", "--id", id, ...extra];
  args.push("--token-file", writeTokenFile(token));
  args.push("--log-dir", mkdtempSync(path.join(tmpdir(), "dagflare-runner-logs-")));
  if (process.getuid?.() === 0) args.push("--run-as", "root");
  const { DAGFLARE_RUNNER_TOKEN: _refused, ...env } = process.env;
  const child = spawn(process.execPath, args, { env: { ...env, DAGFLARE_RUNNER_TRACE: traceFile }, stdio: "ignore" });
  return {
    // The trace is written once a second and at the runner's exit.
    stop: async () => {
      await new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      });
      const lines = readFileSync(traceFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      rmSync(path.dirname(traceFile), { recursive: true, force: true });
      return lines;
    },
  };
}

/** A chain of `n` steps `s0`, `s1`, ..., each running `cmd` (the stage benchmarks' DAG). */
export const chainSpec = (n, cmd) =>
  `steps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: ${JSON.stringify(cmd)}\n`).join("")}`;

/** The median of the finite figures among `xs` (NaN when there are none). */
export function p50(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
}

export function stopGroup(child, signal = "SIGTERM") {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = (sig) => {
      try {
        process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      kill("SIGKILL"); // leftovers of the group (workerd)
      resolve();
    });
    kill(signal);
  });
}
