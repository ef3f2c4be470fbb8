// `npm run bench:memory`: the resident memory (RSS) of an idle runner, with each launcher. Starts the Worker under
// `wrangler dev`, starts each runner form below against it with no work to do, lets it settle
// for 30 s (more than one 25 s lease long-poll), then samples the RSS of the runner and of its
// helper processes (the watchdog and the fork helper) from /proc once a second for 10 s and
// prints the medians. The runner's RSS is split into its file-backed pages (Node's own binary
// and libraries, shared with every Node process of the host) and its anonymous memory (its heaps,
// its own). Linux only.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildCli, CLI_BUNDLE } from "./build-cli.mjs";
import { applyMigrations, buildRunner, ROOT, RUNNER_BUNDLE, startWorker, stopGroup } from "./stack.mjs";

const SETTLE_MS = 30_000;
const SAMPLES = 10;
const RUNNER_TOKEN = "memory-bench-runner-token";

// Steps of the runner's own user start with posix_spawn (koffi loaded, no fork helper); steps of
// another user go through the fork helper (a root runner with `--run-as` an unprivileged user).
const OWN = process.getuid?.() === 0 ? ["--run-as", "root"] : [];
const OTHER = process.getuid?.() === 0 ? ["--run-as", "nobody"] : ["--launcher", "helper"];
const FORMS = [
  { name: "runner/dist/runner.mjs, posix_spawn", args: [RUNNER_BUNDLE, ...OWN] },
  { name: "dagflare runner (the npm package), posix_spawn", args: [CLI_BUNDLE, "runner", ...OWN] },
  { name: "runner/dist/runner.mjs, fork helper", args: [RUNNER_BUNDLE, ...OTHER] },
  { name: "dagflare runner (the npm package), fork helper", args: [CLI_BUNDLE, "runner", ...OTHER] },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A field of /proc/PID/status in KiB (VmRSS, RssAnon, RssFile), or undefined once it is gone. */
function statusKiB(pid, field = "VmRSS") {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

buildRunner();
await buildCli();
const stateDir = path.join(ROOT, ".wrangler", "memory-bench");
applyMigrations(stateDir);
const worker = await startWorker({
  port: Number(process.env.PORT ?? 8790),
  persistTo: stateDir,
  vars: {
    DAGFLARE_AUTH: "required",
    DAGFLARE_API_TOKEN: "memory-bench-user-token",
    DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN,
  },
});
const tokenFile = path.join(mkdtempSync(path.join(tmpdir(), "memory-bench-")), "runner-token");
writeFileSync(tokenFile, `${RUNNER_TOKEN}\n`, { mode: 0o600 });
const rows = [];
try {
  for (const form of FORMS) {
    // The runner refuses a token in its environment (its steps could read it): a file, as in production.
    const child = spawn(process.execPath, [...form.args, "--server", worker.url, "--id", "memory-bench"], {
      env: { ...process.env, DAGFLARE_RUNNER_TOKEN_FILE: tokenFile },
      stdio: "ignore",
    });
    await sleep(2_000);
    if (child.exitCode !== null) throw new Error(`${form.name} exited (${child.exitCode}) instead of waiting for work`);
    await sleep(SETTLE_MS);
    const runner = [];
    const anon = [];
    const helpers = [];
    for (let i = 0; i < SAMPLES; i++) {
      runner.push(statusKiB(child.pid) ?? 0);
      anon.push(statusKiB(child.pid, "RssAnon") ?? 0);
      helpers.push(childPids(child.pid).reduce((n, pid) => n + (statusKiB(pid) ?? 0), 0));
      await sleep(1_000);
    }
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    const r = median(runner);
    const a = median(anon);
    const h = median(helpers);
    rows.push(`| ${form.name} | ${mib(r)} (${mib(a)} anonymous) | ${mib(h)} | ${mib(r + h)} |`);
  }
} finally {
  await stopGroup(worker.child);
}
process.stdout.write(
  `Node ${process.version}, idle runner, medians of ${SAMPLES} samples after ${SETTLE_MS / 1000} s:\n\n` +
    "| runner | runner RSS (of it anonymous) | helpers RSS (watchdog, fork helper) | total |\n| --- | --- | --- | --- |\n" +
    `${rows.join("\n")}\n`,
);
