// The fork helper (runner/src/fork-helper.ts) in place of Node's spawn: the same guarantees,
// checked on real processes (the launcher where posix_spawn cannot be had, and for steps of
// another user than the runner's). launchers.test.ts checks what all launchers share.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForkHelper } from "../../runner/src/fork-helper.ts";
import type { Command } from "../../runner/src/helper-child.ts";
import { helperPid, resetHelper, setLauncher } from "../../runner/src/launch.ts";
import { startProcess } from "../../runner/src/process-group.ts";
import type { ExecSpec } from "../../src/shared/protocol.ts";
import { groupAlive, makeLease, until } from "./fake-server";

// Each test starts with a helper of its own (and no deaths counted against it).
beforeEach(() => setLauncher("helper"));
afterEach(() => {
  setLauncher("helper");
  resetHelper();
});

function exec(command: string): ExecSpec {
  return makeLease({ command }).exec;
}

/** Runs `command` to its end; returns its result and what it wrote. */
async function run(command: string) {
  const out = { stdout: "", stderr: "" };
  const proc = startProcess(exec(command), { onOutput: (stream, text) => (out[stream] += text) });
  const result = await proc.done;
  return { ...result, ...out, pid: await proc.started };
}

/** A file the step writes a line to, read back after it ran. */
function scratch(): { path: string; read: () => string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "fork-helper-")), "out");
  return { path: file, read: () => (existsSync(file) ? readFileSync(file, "utf8").trim() : "") };
}

describe("steps started by the fork helper", () => {
  it("are children of the helper, not of the runner", async () => {
    const r = await run("echo $PPID");
    expect(Number(r.stdout)).toBe(helperPid());
    expect(Number(r.stdout)).not.toBe(process.pid);
  });

  it("are started by a helper whose environment holds none of the runner's credentials", async () => {
    process.env.DAGFLARE_RUNNER_TOKEN_FILE = "/the/runner/token";
    try {
      await run("true");
      const pid = helperPid();
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      expect(environ).not.toContain("DAGFLARE_RUNNER_TOKEN_FILE");
      expect(environ).toContain("PATH=");
    } finally {
      delete process.env.DAGFLARE_RUNNER_TOKEN_FILE;
    }
  });
});

/** A helper started with SIGCHLD blocked for its whole life (a "perl" first on PATH blocks it and execs the real one). */
async function helperWithSigchldBlocked(): Promise<ForkHelper> {
  const bin = mkdtempSync(path.join(tmpdir(), "fork-helper-bin-"));
  const perl = execFileSync("sh", ["-c", "command -v perl"], { encoding: "utf8" }).trim();
  writeFileSync(
    path.join(bin, "perl"),
    `#!${perl}\nuse POSIX;\nsigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGCHLD));\nexec { "${perl}" } "perl", @ARGV;\n`,
    { mode: 0o755 },
  );
  const helper = new ForkHelper({ privateEnv: [] });
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
  try {
    helper.warmUp();
  } finally {
    process.env.PATH = savedPath;
  }
  // SIGCHLD is signal 17: bit 16 of the mask, once the wrapper has exec'd the real perl.
  await until(() => (sigBlk(helper.pid as number) & (1n << 16n)) !== 0n);
  return helper;
}

function sigBlk(pid: number | string): bigint {
  return BigInt(`0x${readFileSync(`/proc/${pid}/status`, "utf8").match(/^SigBlk:\s*(\w+)/m)?.[1] ?? "0"}`);
}

describe("a step's end", () => {
  it("is reported even when the helper's SIGCHLD never arrives", async () => {
    // A SIGCHLD can land between Perl's last signal check and the read that then blocks; in a
    // chain nothing else wakes the helper. A helper with SIGCHLD blocked makes that loss certain.
    const helper = await helperWithSigchldBlocked();
    for (let i = 0; i < 3; i++) {
      const step = helper.launch({ file: "sh", args: ["-c", `exit ${i + 3}`], cwd: tmpdir(), env: process.env });
      const ended = await new Promise((resolve) => step.once("exit", (code) => resolve(code)));
      expect(ended).toBe(i + 3);
    }
    helper.stop();
  });

  it("carries each step's own exit code when many steps end at the same moment", async () => {
    // Reaping runs both from the read loop and from SIGCHLD: one must not report another's status.
    const helper = new ForkHelper({ privateEnv: [] });
    const codes = Array.from({ length: 300 }, (_, i) => (i % 7) + 1);
    const ended = codes.map((code) => {
      const step = helper.launch({ file: "sh", args: ["-c", `exit ${code}`], cwd: tmpdir(), env: process.env });
      return new Promise((resolve) => step.once("exit", (c, signal) => resolve(signal ?? c)));
    });
    expect(await Promise.all(ended)).toEqual(codes);
    helper.stop();
  }, 60_000);

  it("comes from a step that started with no signal blocked, as with spawn", async () => {
    const helper = await helperWithSigchldBlocked();
    const step = helper.launch({
      file: "grep",
      // Not through sh: a shell sets its own mask (dash blocks every signal while it waits).
      args: ["SigBlk", "/proc/self/status"],
      cwd: tmpdir(),
      env: process.env,
    });
    let out = "";
    await new Promise((resolve) => step.once("spawn", resolve));
    step.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => step.once("close", resolve));
    expect(out).toMatch(/^SigBlk:\s*0+$/m);
    helper.stop();
  });
});

/** Runs `cmd` through `helper` to its end, with what it wrote on stdout. */
async function launched(helper: ForkHelper, cmd: Command) {
  const step = helper.launch(cmd);
  let stdout = "";
  step.once("spawn", () => step.stdout?.on("data", (d: Buffer) => (stdout += d.toString())));
  const error = new Promise<Error>((resolve) => step.once("error", resolve));
  const exit = new Promise<number | null>((resolve) => step.once("exit", (code) => resolve(code)));
  const closed = new Promise((resolve) => step.once("close", resolve));
  const ended = await Promise.race([
    error,
    exit.then(async (code) => {
      await closed;
      return code;
    }),
  ]);
  return { ended, stdout };
}

describe("a step's output and environment", () => {
  it("arrive whole and in order when the output is many times a pipe's buffer", async () => {
    // 1.3 MB on stdout (a pipe holds 64 KiB): the step blocks on its writes until the runner reads.
    const r = await run("seq 1 200000; echo done >&2");
    expect(r).toMatchObject({ exitCode: 0, stderr: "done\n" });
    expect(r.stdout).toBe(`${Array.from({ length: 200000 }, (_, i) => i + 1).join("\n")}\n`);
  });

  it("is exactly each step's own, whatever the step before it had", async () => {
    const helper = new ForkHelper({ privateEnv: [] });
    const PATH = process.env.PATH as string;
    const show = { file: "sh", args: ["-c", "echo ${X-unset} ${Y-unset} ${Z-unset}"], cwd: tmpdir() };
    // The same names with another value; then one name swapped for another; then one fewer.
    const envs = [
      { PATH, X: "1", Y: "a" },
      { PATH, X: "2", Y: "a" },
      { PATH, Z: "z", Y: "b" },
      { PATH, Y: "c" },
    ];
    const seen = [];
    for (const env of envs) seen.push((await launched(helper, { ...show, env })).stdout);
    expect(seen).toEqual(["1 a unset\n", "2 a unset\n", "unset b z\n", "unset c unset\n"]);
    helper.stop();
  });
});

describe("a step given no environment", () => {
  it("has none, not the helper's own, even as the helper's first step", async () => {
    const helper = new ForkHelper({ privateEnv: [] });
    const r = await launched(helper, { file: "/usr/bin/env", args: [], cwd: tmpdir(), env: {} });
    expect(r).toEqual({ ended: 0, stdout: "" });
    helper.stop();
  });
});

describe("a step whose output pipes cannot be opened", () => {
  it("does not run, and its error says why", async () => {
    const helper = new ForkHelper({ privateEnv: [] });
    const where = await launched(helper, {
      file: "sh",
      args: ["-c", "readlink /proc/$$/fd/1"],
      cwd: tmpdir(),
      env: process.env,
    });
    const dir = path.dirname(where.stdout.trim().replace(/ \(deleted\)$/, ""));
    // The pipes made ahead for the next steps are gone.
    for (const f of readdirSync(dir)) rmSync(path.join(dir, f));
    const g = scratch();
    const r = await launched(helper, {
      file: "sh",
      args: ["-c", `echo ran > ${g.path}`],
      cwd: tmpdir(),
      env: process.env,
    });
    expect(String(r.ended)).toMatch(/could not open its output pipes/);
    expect(g.read()).toBe("");
    helper.stop();
  });
});

describe("when the fork helper dies", () => {
  it("is started again for the next step", async () => {
    await run("true");
    const first = helperPid() as number;
    process.kill(first, "SIGKILL");
    await until(() => helperPid() !== first);
    const r = await run("echo $PPID");
    expect(r).toMatchObject({ exitCode: 0 });
    expect(Number(r.stdout)).toBe(helperPid());
    expect(helperPid()).not.toBe(first);
  });

  it("kills a step it was running and reports it as an error that says why", async () => {
    const g = scratch();
    await run("true");
    const helper = helperPid() as number;
    const proc = startProcess(exec(`echo $$ > ${g.path}; sleep 30`), { onOutput: () => {} });
    await proc.started;
    await until(() => g.read() !== "");
    process.kill(helper, "SIGKILL");
    const r = await proc.done;
    expect(r).toMatchObject({ exitCode: null, signal: null });
    expect(r.error).toMatch(/fork helper died while the step ran/);
    await until(() => !groupAlive(Number(g.read())), 5_000);
  });

  it("starts a step it had not forked yet with spawn instead, exactly once", async () => {
    const g = scratch();
    await run("true");
    const helper = helperPid() as number;
    // Stopped, the helper cannot read the request; killed, it never will.
    process.kill(helper, "SIGSTOP");
    const proc = startProcess(exec(`echo $PPID >> ${g.path}`), { onOutput: () => {} });
    process.kill(helper, "SIGKILL");
    const r = await proc.done;
    expect(r).toMatchObject({ exitCode: 0, signal: null });
    expect(g.read()).toBe(String(process.pid));
  });

  it("gives way to spawn for good after dying three times", async () => {
    const helper = new ForkHelper({ privateEnv: [] });
    const cmd = { file: "sh", args: ["-c", "sleep 30"], cwd: tmpdir(), env: process.env };
    for (let death = 1; death <= 3; death++) {
      const step = helper.launch(cmd);
      await new Promise((resolve) => step.once("spawn", resolve));
      process.kill(helper.pid as number, "SIGKILL");
      await new Promise((resolve) => step.once("error", resolve));
    }
    expect(helper.usable).toBe(false);
  });
});

describe("the runner's end", () => {
  it("kills every step's process group the helper still runs", async () => {
    const g = scratch();
    const helper = new ForkHelper({ privateEnv: [] });
    const cmd = { file: "sh", args: ["-c", `sleep 30 & echo $$ > ${g.path}; wait`], cwd: tmpdir(), env: process.env };
    const step = helper.launch(cmd);
    await new Promise((resolve) => step.once("spawn", resolve));
    await until(() => g.read() !== "");
    const ended = new Promise((resolve) => step.once("exit", (code, signal) => resolve({ code, signal })));
    // The runner's end closes the helper's stdin, as stop() does.
    helper.stop();
    expect(await ended).toEqual({ code: null, signal: "SIGKILL" });
    await until(() => !groupAlive(Number(g.read())), 5_000);
  });
});

describe("the helper's end", () => {
  it("removes the directory of its output pipes", async () => {
    // The step's stdout is a FIFO in the helper's directory.
    const r = await run("readlink /proc/$$/fd/1");
    const dir = path.dirname(r.stdout.trim().replace(/ \(deleted\)$/, ""));
    expect(path.basename(dir)).toMatch(/^dagflare-fork-/);
    expect(existsSync(dir)).toBe(true);
    const helper = helperPid() as number;
    resetHelper();
    await until(() => !existsSync(`/proc/${helper}`));
    expect(existsSync(dir)).toBe(false);
  });
});

describe("--launcher spawn", () => {
  it("starts steps as children of the runner itself", async () => {
    setLauncher("spawn");
    const r = await run("echo $PPID");
    expect(Number(r.stdout)).toBe(process.pid);
    expect(helperPid()).toBeUndefined();
  });
});
