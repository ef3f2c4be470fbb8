// What every launcher (runner/src/launch.ts) guarantees a step's process, checked on real
// processes with each: posix_spawn (the default), the fork helper and Node's spawn.
import { afterAll, describe, expect, it } from "vitest";
import { resetHelper, setLauncher } from "../../runner/src/launch.ts";
import { startProcess } from "../../runner/src/process-group.ts";
import { makeLease } from "./fake-server";

afterAll(() => {
  setLauncher("posix-spawn");
  resetHelper();
});

/** Runs `command` (through the step's shell, or exec'd when it is a simple command) to its end. */
async function run(command: string) {
  const out = { stdout: "", stderr: "" };
  const proc = startProcess(makeLease({ command }).exec, { onOutput: (stream, text) => (out[stream] += text) });
  const result = await proc.done;
  return { ...result, ...out, pid: await proc.started };
}

describe.each(["posix-spawn", "helper", "spawn"] as const)("steps started with --launcher %s", (launcher) => {
  it("report exit code 130 and a death by SIGINT apart", async () => {
    setLauncher(launcher);
    expect(await run("exit 130")).toMatchObject({ exitCode: 130, signal: null });
    expect(await run("kill -INT $$")).toMatchObject({ exitCode: null, signal: "SIGINT" });
  });

  it("each lead a process group of their own, in a session of their own", async () => {
    setLauncher(launcher);
    // Fields 5 and 6 of /proc/PID/stat: the process group and the session.
    const r = await run("cut -d' ' -f5,6 /proc/$$/stat");
    const [pgid, sid] = r.stdout.trim().split(/\s+/).map(Number);
    expect(pgid).toBe(r.pid);
    expect(sid).toBe(r.pid);
  });

  it("read /dev/null as stdin", async () => {
    setLauncher(launcher);
    expect((await run("cat; echo end")).stdout).toBe("end\n");
  });

  it("start with no signal ignored or blocked, though the runner ignores SIGPIPE", async () => {
    setLauncher(launcher);
    // Exec'd without a shell (a shell sets its own mask): what the step's own program gets. A
    // pipeline such as `yes | head` relies on SIGPIPE's default.
    const r = await run("grep ^Sig /proc/self/status");
    expect(r.stdout).toMatch(/^SigIgn:\s*0+$/m);
    expect(r.stdout).toMatch(/^SigBlk:\s*0+$/m);
  });
});
