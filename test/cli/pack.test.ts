// The package as a host gets it: `npm pack` of cli/, installed from the tarball into an empty
// folder without the registry, its `dagflare runner` serving the local stack and running a DAG.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildCli, CLI_DIR } from "../../scripts/build-cli.mjs";
import { writeTokenFile } from "../../scripts/stack.mjs";
import { RUNNER_TOKEN, type Stack, startStack, stopGroup, tempDir, USER_TOKEN, waitFor } from "../e2e/harness";
import { CliUser } from "./harness";

/** How the installed runner gets its token: the way `dagflare runner` takes it (docs/runner.md). */
const RUNNER_AUTH = {
  args: ["--token-file", writeTokenFile(RUNNER_TOKEN), ...(process.getuid?.() === 0 ? ["--run-as", "root"] : [])],
  env: {},
};

let stack: Stack;
let runner: ChildProcess | undefined;

beforeAll(async () => {
  await buildCli();
  // No runner of its own: only the installed one can run the DAG.
  stack = await startStack({ runners: [] });
});
afterAll(async () => {
  if (runner) await stopGroup(runner, "SIGKILL");
  await stack?.stop();
});

function npm(args: string[], cwd: string): string {
  const res = spawnSync("npm", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  if (res.status !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

it("installs from its tarball into an empty folder offline and runs a DAG through its own runner", async () => {
  const packDir = tempDir("pack");
  const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", packDir], CLI_DIR));
  const packedFiles: string[] = packed.files.map((f: { path: string }) => f.path);
  expect(packedFiles).toContain("dist/dagflare.mjs");
  expect(packedFiles.filter((f) => !/^dist\/[\w-]+\.mjs$/.test(f)).sort()).toEqual([
    "README.md",
    "package.json",
    "systemd/dagflare-runner.service",
  ]);

  const host = tempDir("host");
  npm(["install", "--offline", "--no-audit", "--no-fund", path.join(packDir, packed.filename)], host);
  // Nothing but the package itself and, where npm's cache has it, its one optional dependency
  // (koffi, for posix_spawn; without it the runner's fork helper starts the steps).
  const installed = readdirSync(path.join(host, "node_modules")).filter((f) => !f.startsWith("."));
  expect(installed).toContain("dagflare");
  expect(installed.filter((f) => !["dagflare", "koffi", "@koromix"].includes(f))).toEqual([]);
  const bin = path.join(host, "node_modules", ".bin", "dagflare");

  let runnerLog = "";
  const logDir = tempDir("runner-logs");
  runner = spawn(
    bin,
    ["runner", "--server", stack.url, "--id", "packed-runner", "--log-dir", logDir, ...RUNNER_AUTH.args],
    {
      cwd: host,
      env: { PATH: process.env.PATH ?? "", ...RUNNER_AUTH.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  runner.stderr?.on("data", (b) => (runnerLog += b.toString()));
  await waitFor("the runner to poll", async () => runnerLog.includes("runner packed-runner polling"));
  const launcher = installed.includes("koffi") ? "posix_spawn" : "the fork helper";
  expect(runnerLog).toContain(`steps are started with ${launcher}`);

  const user = new CliUser({ DAGFLARE_SERVER: stack.url, DAGFLARE_TOKEN: USER_TOKEN });
  const dags = user.dagFolder("dags", {
    "packed.yaml": "steps:\n  - name: hi\n    command: echo hi from $(hostname)\n",
  });
  expect((await user.run(["push", dags], { bin })).code).toBe(0);
  const r = await user.run(["start", "packed", "--wait", "--json"], { bin });
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).statusLabel).toBe("succeeded");
  expect(runnerLog).toContain("completion accepted");

  // SIGTERM drains the runner, which exits 0.
  const exited = new Promise<number | null>((resolve) => runner?.once("exit", resolve));
  runner.kill("SIGTERM");
  expect(await exited).toBe(0);
  const manifest = JSON.parse(readFileSync(path.join(host, "node_modules", "dagflare", "package.json"), "utf8"));
  expect(manifest.dependencies).toBeUndefined();
  expect(manifest.optionalDependencies).toEqual({ koffi: expect.any(String) });
});
