// The runner command as shipped: bundled by esbuild into one file and run by Node.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeServer, groupAlive, makeLease, until } from "./fake-server";

let server: FakeServer;
let bundle: string;

beforeAll(async () => {
  bundle = path.join(mkdtempSync(path.join(tmpdir(), "runner-bundle-")), "runner.mjs");
  // The same options as the project's build (runner/dist/runner.mjs), into a private file.
  await build({
    entryPoints: [path.join(import.meta.dirname, "../../runner/src/cli.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    outfile: bundle,
    logLevel: "warning",
  });
});
// A server per test: a runner from an earlier test must not take this test's leases.
beforeEach(async () => {
  server = await new FakeServer().start();
});
afterEach(() => server.stop());

function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bundle, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (b) => (stderr += b.toString()));
  child.stdout.on("data", (b) => (stdout += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

const runner = (...args: string[]) => cli(["--server", server.url, "--concurrency", "2", ...args]);

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

  it("takes its server and token from the environment", async () => {
    server.failNext = { status: 401, count: 1, suffix: "/lease" };
    const r = cli([], { DAGFLARE_SERVER: server.url, DAGFLARE_RUNNER_TOKEN: "from-env" });
    expect(await r.exited).toBe(3);
    expect(r.stderr()).toContain(`polling ${server.url}`);
  });

  it("exits 3 with a clear message when the server refuses its token", async () => {
    server.failNext = { status: 403, count: 1, suffix: "/lease" };
    const r = runner("--token", "wrong");
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
