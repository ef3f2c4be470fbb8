// The runner command as shipped: bundled by esbuild into one file and run by Node.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RUNNER_V8_FLAGS } from "../../runner/src/v8-flags.ts";
import { buildCli } from "../../scripts/build-cli.mjs";
import { buildRunner } from "../../scripts/stack.mjs";
import { FakeServer, groupAlive, makeLease, until } from "./fake-server";

let server: FakeServer;
let bundle: string;
/** The `dagflare` package's command, whose `runner` subcommand loads the runner as a chunk. */
let packageEntry: string;

beforeAll(async () => {
  // The project's own builds (runner/dist/runner.mjs and the package's cli/dist), into private folders.
  bundle = path.join(mkdtempSync(path.join(tmpdir(), "runner-bundle-")), "runner.mjs");
  buildRunner(bundle);
  packageEntry = await buildCli(mkdtempSync(path.join(tmpdir(), "runner-package-")));
});
// A server per test: a runner from an earlier test must not take this test's leases.
beforeEach(async () => {
  server = await new FakeServer().start();
});
afterEach(() => server.stop());

/** The runner as `node runner.mjs ARGS`, or as `program ARGS` (the package: `dagflare.mjs runner`). */
function cli(args: string[], env: Record<string, string> = {}, program = [bundle]) {
  const child = spawn(process.execPath, [...program, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    // The runs' files go to a folder of the test's, never the user's own state directory.
    env: {
      PATH: process.env.PATH ?? "",
      DAGFLARE_RUNNER_LOG_DIR: mkdtempSync(path.join(tmpdir(), "runner-logs-")),
      ...env,
    },
  });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (b) => (stderr += b.toString()));
  child.stdout.on("data", (b) => (stdout += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

/** Steps run as this user: said explicitly, as a runner started as root requires. */
const self = ["--run-as", userInfo().username];
const runner = (...args: string[]) => cli(["--server", server.url, "--concurrency", "2", ...self, ...args]);

/** A token file as the runner wants it: readable by its owner only. */
function tokenFile(token: string, mode = 0o600): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "runner-token-")), "runner-token");
  writeFileSync(file, `${token}\n`, { mode });
  return file;
}

describe("the runner command", () => {
  it("prints its usage for --help and exits 0", async () => {
    const r = cli(["--help"]);
    expect(await r.exited).toBe(0);
    expect(r.stdout()).toMatch(/--concurrency N/);
  });

  it("refuses a bad flag with a message naming it and exits 2", async () => {
    const r = cli(["--concurrency", "zero"]);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toMatch(/--concurrency "zero" must be a whole number/);
  });

  it("refuses to start, and exits 2, when its log directory cannot be created", async () => {
    const blocker = path.join(mkdtempSync(path.join(tmpdir(), "runner-logdir-")), "a-file");
    writeFileSync(blocker, "");
    const r = runner("--log-dir", path.join(blocker, "logs"));
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain(`--log-dir: cannot create the log directory ${path.join(blocker, "logs")}: ENOTDIR`);
    expect(server.calls).toEqual([]);
  });

  it("takes its server and token file from the environment", async () => {
    server.failNext = { status: 401, count: 1, suffix: "/lease" };
    const file = tokenFile("from-file");
    const r = cli(self, { DAGFLARE_SERVER: server.url, DAGFLARE_RUNNER_TOKEN_FILE: file });
    expect(await r.exited).toBe(3);
    expect(r.stderr()).toContain(`polling ${server.url}`);
    expect(server.callsTo("/lease")[0]?.auth).toBe("Bearer from-file");
  });

  it("takes its token from systemd's credential runner-token", async () => {
    server.failNext = { status: 401, count: 1, suffix: "/lease" };
    const file = tokenFile("from-systemd", 0o400);
    const r = cli(self, { DAGFLARE_SERVER: server.url, CREDENTIALS_DIRECTORY: path.dirname(file) });
    expect(await r.exited).toBe(3);
    expect(server.callsTo("/lease")[0]?.auth).toBe("Bearer from-systemd");
  });

  it.each([
    [["--token", "secret"], {}, /--token is not accepted: a token on the command line can be read/],
    [[], { DAGFLARE_RUNNER_TOKEN: "secret" }, /DAGFLARE_RUNNER_TOKEN is set: a token in the runner's environment/],
  ])("refuses a token given as %j %j, where steps could read it, and exits 2", async (args, env, message) => {
    const r = cli([...self, ...args], { DAGFLARE_SERVER: server.url, ...env });
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toMatch(message);
    expect(server.calls).toEqual([]);
  });

  it("refuses a token file other users can read, and exits 2", async () => {
    const file = tokenFile("shared", 0o644);
    const r = runner("--token-file", file);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain(`token file ${file} can be read by other users (mode 644): chmod 600 ${file}`);
  });

  it("keeps its token out of its steps' reach: not in the cmdline or environ of the runner or the step's parent, masked if printed", async () => {
    const token = "dfr_0123456789ab_feedfacefeedfacefeedfacefeedfacefeedface";
    const file = tokenFile(token);
    const r = runner("--token-file", file);
    // The step's parent is the runner's fork helper; the runner is read by its pid.
    const lease = makeLease({
      command: `for p in ${r.child.pid} $PPID; do tr '\\0' '\\n' < /proc/$p/cmdline; tr '\\0' '\\n' < /proc/$p/environ; echo; done; cat ${file}`,
    });
    server.offer(lease);
    await until(() => server.completions.has(lease.leaseId));
    r.child.kill("SIGTERM");
    await r.exited;
    const log = server.logText(lease.leaseId);
    // The step did read the entries (the runner's flags, the helper's name and PATH are there)...
    expect(log).toContain("--token-file");
    expect(log).toContain("dagflare-fork-helper");
    expect(log.match(/^PATH=/gm)).toHaveLength(2);
    // ...and found the token nowhere; the one it read from the file (same user) left masked.
    expect(log).not.toContain(token);
    expect(log.match(/\*\*\*\*\*/g)).toEqual(["*****"]);
    expect(log.trimEnd().endsWith("*****")).toBe(true);
  });

  // CI runs as root, where this is what a runner does; elsewhere the runner refuses the flag.
  it("runs steps as the --run-as user, who cannot read the runner's token file or memory", async () => {
    const file = tokenFile("dfr_0123456789ab_0000000000000000000000000000000000000000");
    if (process.getuid?.() !== 0) {
      const r = cli(["--server", server.url, "--token-file", file, "--run-as", "nobody"]);
      expect(await r.exited).toBe(2);
      expect(r.stderr()).toMatch(/only a runner started as root can run steps as another user/);
      return;
    }
    const r = cli(["--server", server.url, "--token-file", file, "--run-as", "nobody"]);
    const runnerPid = r.child.pid;
    const probe = `id -u; echo "home=$HOME"; cat ${file}; cat /proc/${runnerPid}/environ; head -c1 /proc/${runnerPid}/mem; true`;
    const command = makeLease({ command: probe, dir: "/" });
    const script = makeLease({ script: "#!/bin/sh\nid -un\n", dir: "/" });
    // `~` is the step user's home (nobody's does not exist), not the runner's.
    const tilde = makeLease({ command: "pwd", dir: "~" });
    server.offer(command, script, tilde);
    await until(() => [command, script, tilde].every((l) => server.completions.has(l.leaseId)));
    r.child.kill("SIGTERM");
    await r.exited;
    expect(r.stderr()).toContain("steps run as nobody (uid 65534)");
    expect(server.logText(command.leaseId)).toBe("65534\nhome=/nonexistent\n");
    const denied = server.logText(command.leaseId, "stderr");
    expect(denied.match(/Permission denied/g)).toHaveLength(3);
    expect(server.logText(script.leaseId)).toBe("nobody\n");
    expect(server.completions.get(tilde.leaseId)?.error).toBe("working directory /nonexistent does not exist");
  });

  it("exits 3 with a clear message when the server refuses its token", async () => {
    server.failNext = { status: 403, count: 1, suffix: "/lease" };
    const r = runner("--token-file", tokenFile("wrong"));
    expect(await r.exited).toBe(3);
    expect(r.stderr()).toMatch(/the server refused the runner token \(403 simulated/);
  });

  it("logs one line per event, each starting with an ISO timestamp", async () => {
    const lease = makeLease({ command: "echo hi" });
    server.offer(lease);
    const r = runner("--id", "cli-events");
    await until(() => r.stderr().includes("completion accepted"));
    r.child.kill("SIGTERM");
    expect(await r.exited).toBe(0);
    const lines = r.stderr().trim().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    for (const event of ["leased by cli-events", "started pid", "exited with 0", "completion accepted"]) {
      expect(lines.some((l) => l.includes(event))).toBe(true);
    }
  });

  it.each([
    ["node runner.mjs", () => [bundle]],
    ["dagflare runner (the package)", () => [packageEntry, "runner"]],
  ])("started as `%s`, applies its own V8 settings and still runs a step over HTTP", async (_form, program) => {
    const lease = makeLease({ command: "echo hi" });
    server.offer(lease);
    const r = cli(["--server", server.url, "--concurrency", "2", ...self], {}, program());
    await until(() => server.completions.has(lease.leaseId));
    // Nothing on the command line: the runner set the flags itself (v8-flags.ts), and V8 knew
    // each of them (an unknown one is only a line on stderr, and would be silently lost)...
    const cmdline = readFileSync(`/proc/${r.child.pid}/cmdline`, "utf8").split("\0");
    expect(cmdline.slice(1, 1 + program().length)).toEqual(program());
    for (const flag of RUNNER_V8_FLAGS) expect(cmdline).not.toContain(flag);
    expect(r.stderr()).toContain(`V8 settings for a small idle footprint: ${RUNNER_V8_FLAGS.join(" ")}`);
    expect(r.stderr()).not.toMatch(/unrecognized flag|unknown flag/i);
    r.child.kill("SIGTERM");
    expect(await r.exited).toBe(0);
    // ...and its calls went through under them: lease, logs, completion.
    expect(server.completions.get(lease.leaseId)?.exitCode).toBe(0);
    expect(server.logText(lease.leaseId)).toBe("hi\n");
  });

  it.each([
    ["node runner.mjs", () => [bundle]],
    ["dagflare runner (the package)", () => [packageEntry, "runner"]],
  ])(
    "started as `%s`, runs a step without loading undici (Node's fetch and WebSocket), the 12 MiB it would keep",
    async (_form, program) => {
      const lease = makeLease({ command: "echo hi" });
      server.offer(lease);
      const modulesFile = path.join(mkdtempSync(path.join(tmpdir(), "runner-modules-")), "loaded");
      const preload = pathToFileURL(path.join(import.meta.dirname, "..", "support", "loaded-modules.mjs")).href;
      const r = cli(["--server", server.url, "--concurrency", "2", ...self], { LOADED_MODULES_FILE: modulesFile }, [
        "--import",
        preload,
        ...program(),
      ]);
      await until(() => server.completions.has(lease.leaseId));
      r.child.kill("SIGTERM");
      expect(await r.exited).toBe(0);
      const loaded = readFileSync(modulesFile, "utf8").split("\n");
      // Its calls went over node:http, and its socket (which this server refuses) tried `ws`...
      expect(loaded).toContain("NativeModule http");
      expect(r.stderr()).toContain("socket could not open");
      // ...and nothing loaded undici.
      expect(loaded.filter((m) => m.includes("undici"))).toEqual([]);
    },
  );

  it("the bundle makes its schemas with zod/mini only: no classic zod, whose methods on every schema an idle runner would keep (2.5 MiB)", () => {
    // Each zod schema class is made by `$constructor("<name>", ...)`: classic ones are `ZodString`,
    // `ZodObject`, ...; zod/mini's `ZodMini...`; the core's `$Zod...`.
    const made = [...readFileSync(bundle, "utf8").matchAll(/\$constructor\("(Zod\w+)"/g)].map((m) => m[1]);
    expect(made).toContain("ZodMiniObject");
    expect(made.filter((name) => !name?.startsWith("ZodMini"))).toEqual([]);
  });

  it("drains on SIGTERM: the running step finishes and reports, then the runner exits 0", async () => {
    const lease = makeLease({ command: "echo started; sleep 0.5; echo done" });
    server.offer(lease);
    const r = runner();
    await until(() => server.logText(lease.leaseId).includes("started"));
    r.child.kill("SIGTERM");
    expect(await r.exited).toBe(0);
    expect(server.completions.get(lease.leaseId)).toMatchObject({ exitCode: 0, cancelled: false });
    expect(server.completions.get(lease.leaseId)?.next).toBeUndefined();
    expect(server.logText(lease.leaseId)).toBe("started\ndone\n");
    expect(r.stderr()).toMatch(/SIGTERM: draining/);
  });

  it.each(["SIGTERM", "SIGINT"] as const)(
    "on a second %s stops at once: kills the running process group, gives its lease back and exits 1",
    async (signal) => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), "runner-cli-")), "pgid");
      const lease = makeLease({ command: `echo $$ > ${file}; echo started; sleep 30 & wait` });
      server.offer(lease);
      const r = runner();
      await until(() => server.logText(lease.leaseId).includes("started"));
      r.child.kill(signal);
      await until(() => r.stderr().includes("draining"));
      const secondAt = Date.now();
      r.child.kill(signal);
      expect(await r.exited).toBe(1);
      // At most the 1 s kill grace and the 2 s bound on giving leases back.
      expect(Date.now() - secondAt).toBeLessThan(3_500);
      expect(server.releases).toContain(lease.leaseId);
      expect(server.completions.has(lease.leaseId)).toBe(false);
      await until(() => !groupAlive(Number(readFileSync(file, "utf8"))), 5_000);
    },
  );

  it("takes its steps' process groups down with it when it is killed with SIGKILL", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "runner-cli-")), "pgid");
    const lease = makeLease({ command: `echo $$ > ${file}; echo started; sleep 30 & wait` });
    server.offer(lease);
    const r = runner();
    await until(() => server.logText(lease.leaseId).includes("started"));
    const pgid = Number(readFileSync(file, "utf8"));
    expect(groupAlive(pgid)).toBe(true);
    r.child.kill("SIGKILL");
    await r.exited;
    await until(() => !groupAlive(pgid), 3_000);
  });

  it("gives the step its attempt number and lease id in the environment", async () => {
    const lease = makeLease({ command: 'echo "$DAGFLARE_ATTEMPT $DAGFLARE_LEASE_ID"' });
    server.offer(lease);
    const r = runner();
    await until(() => server.completions.has(lease.leaseId));
    r.child.kill("SIGTERM");
    await r.exited;
    expect(server.logText(lease.leaseId)).toBe(`${lease.attempt} ${lease.leaseId}\n`);
  });
});
