// Steps started by the runner itself with posix_spawn (runner/src/native-child.ts), the default
// launcher: the guarantees of spawn and of the fork helper, checked on real processes.
// exec.test.ts runs every other process behaviour through it too, and launchers.test.ts what
// all launchers share.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Command } from "../../runner/src/helper-child.ts";
import { helperPid, resetHelper, setLauncher } from "../../runner/src/launch.ts";
import { launchNative } from "../../runner/src/native-child.ts";
import { startProcess } from "../../runner/src/process-group.ts";
import { makeLease } from "./fake-server";

afterEach(() => {
  setLauncher("posix-spawn");
  resetHelper();
});

/** Runs `command` (through the step's shell, or exec'd when it is a simple command) to its end. */
async function run(command: string, opts: { dir?: string; dirChecked?: boolean } = {}) {
  const out = { stdout: "", stderr: "" };
  const exec = { ...makeLease({ command }).exec, ...(opts.dir && { dir: opts.dir }) };
  const proc = startProcess(exec, { onOutput: (stream, text) => (out[stream] += text), dirChecked: opts.dirChecked });
  const result = await proc.done;
  return { ...result, ...out, pid: await proc.started };
}

/** Starts `cmd` with posix_spawn; resolves with how it ended and its stdout. */
function launched(cmd: Command): Promise<{ code: number | null; stdout: string; error?: string }> {
  const child = launchNative(cmd);
  let stdout = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => {
    child.once("error", (err: Error) => resolve({ code: null, stdout, error: err.message }));
    let code: number | null = null;
    child.once("exit", (c: number | null) => (code = c));
    child.once("close", () => resolve({ code, stdout }));
  });
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), "posix-spawn-"));
}

describe("steps started with posix_spawn", () => {
  it("are children of the runner itself, with no helper process", async () => {
    const r = await run("echo $PPID");
    expect(Number(r.stdout)).toBe(process.pid);
    expect(helperPid()).toBeUndefined();
  });

  it("get no descriptor of the runner's but their stdin, stdout and stderr", async () => {
    // A descriptor without close-on-exec, as one inherited from whatever started the runner.
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const dup = koffi.load(null as unknown as string).func("int dup(int fd)") as (fd: number) => number;
    const leaked = dup(1);
    try {
      const r = await run("ls /proc/self/fd");
      // 3 is ls's own listing of the directory.
      expect(r.stdout.split("\n").filter(Boolean)).toEqual(["0", "1", "2", "3"]);
    } finally {
      koffi.load(null as unknown as string).func("int close(int fd)")(leaked);
    }
  });

  it("carry each step's own exit code when many end at the same moment", async () => {
    const codes = Array.from({ length: 300 }, (_, i) => (i % 7) + 1);
    const ended = codes.map((code) =>
      launched({ file: "sh", args: ["-c", `exit ${code}`], cwd: tmpdir(), env: process.env }).then((r) => r.code),
    );
    expect(await Promise.all(ended)).toEqual(codes);
  }, 60_000);

  it("report the exit of a step that closed its output and ran on", async () => {
    const r = await run("exec >&- 2>&-; sleep 0.3; exit 4");
    expect(r).toMatchObject({ exitCode: 4, signal: null });
  });

  it("find their program in the step's own PATH, as exec does, and run a file without #! with sh", async () => {
    const bin = tempDir();
    writeFileSync(path.join(bin, "greet"), 'echo "hello from $0"\n');
    chmodSync(path.join(bin, "greet"), 0o755);
    try {
      const r = await launched({ file: "greet", args: [], cwd: bin, env: { PATH: `${bin}:/usr/bin:/bin` } });
      expect(r).toEqual({ code: 0, stdout: `hello from ${path.join(bin, "greet")}\n` });
      const missing = await launched({ file: "greet", args: [], cwd: bin, env: { PATH: "/usr/bin:/bin" } });
      expect(missing.error).toMatch(/spawn greet ENOENT/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("have exactly the environment they are given, none of the runner's", async () => {
    const r = await launched({ file: "/usr/bin/env", args: [], cwd: tmpdir(), env: { ONLY: "this" } });
    expect(r).toEqual({ code: 0, stdout: "ONLY=this\n" });
  });

  it("say which working directory could not be entered when it went away before the start", async () => {
    const dir = tempDir();
    rmSync(dir, { recursive: true });
    const r = await run("sh -c 'echo never'", { dir, dirChecked: true });
    expect(r.exitCode).toBeNull();
    expect(r.error).toContain(`working directory ${dir}`);
    expect(r.stdout).toBe("");
  });
});

describe("--launcher helper", () => {
  it("starts steps through the fork helper instead", async () => {
    setLauncher("helper");
    const r = await run("echo $PPID");
    expect(Number(r.stdout)).toBe(helperPid());
  });
});
