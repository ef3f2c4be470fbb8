// A chain's next step started early on the runner (docs/runner-protocol.md#a-chains-next-step-started-early):
// real runner processes with both launchers and both transports, and one with early start off.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner } from "../../scripts/stack.mjs";
import { CutProxy } from "../support/cut-proxy";
import { RUNNER_TOKEN, runEnded, type Stack, startDagRun, startStack, stepLogText, tempDir, waitFor } from "./harness";

let stack: Stack;
const runners: Record<string, ReturnType<typeof startRunner>> = {};
const logDirs: Record<string, string> = {};
let slowLink: CutProxy | undefined;

// Behind a link whose replies take this long, a chain's instant steps always end before the
// reply to their predecessor's completion: their completions go with it, never on their own.
const SLOW_REPLY_MS = 150;
/** What the runner says of a step once the server's answer to its completion came back. */
const answered = ["completion accepted", "(ran ahead, completed with its predecessor)"];

// A long lease: a step's heartbeats come 20 s apart, so a stop reaches the runner only at its
// next heartbeat, well after the test has let the step end.
const LEASE_TTL_MS = 60_000;

beforeAll(async () => {
  stack = await startStack({ runners: [], leaseTtlMs: LEASE_TTL_MS });
  const url = new URL(stack.url);
  slowLink = new CutProxy({ host: url.hostname, port: Number(url.port) });
  slowLink.replyDelayMs = SLOW_REPLY_MS;
  const slowUrl = await slowLink.start();
  const start = (pool: string, args: string[], server = stack.url) => {
    logDirs[pool] = tempDir(`runner-${pool}`);
    runners[pool] = startRunner({
      server,
      token: RUNNER_TOKEN,
      concurrency: 2,
      id: `early-${pool}`,
      logDir: logDirs[pool],
      args: ["--pool", pool, ...args],
    });
  };
  start("helper", []);
  start("spawn", ["--launcher", "spawn", "--transport", "http"]);
  start("late", ["--no-early-start"]);
  start("slow", [], slowUrl);
});

afterAll(async () => {
  for (const r of Object.values(runners)) r.child.kill("SIGKILL");
  await slowLink?.stop();
  await stack?.stop();
});

const said = (pool: string, text: string) => runners[pool]?.output.filter((line) => line.includes(text)) ?? [];

/** A chain of `n` steps in `pool`, each printing its name and appending it to `dir`/order. */
function chain(pool: string, n: number, dir: string): string {
  const steps = Array.from(
    { length: n },
    (_, i) => `  - name: s${i}\n    command: echo out-s${i}; echo s${i} >> ${dir}/order\n`,
  );
  return `type: chain\nworkerSelector:\n  pool: ${pool}\nsteps:\n${steps.join("")}`;
}

describe("a chain's next step started early", () => {
  it.each([
    ["helper", "the fork helper and the socket"],
    ["spawn", "spawn and HTTP"],
  ])("runs a chain in order, every step's log and result arriving, with %s (%s)", async (pool) => {
    const dir = tempDir(`order-${pool}`);
    const name = `early-chain-${pool}`;
    const runId = await startDagRun(stack, name, chain(pool, 5, dir));
    const d = await runEnded(stack, name, runId, 60_000);
    expect(d.statusLabel).toBe("succeeded");
    expect(d.nodes.map((n: { status: number }) => n.status)).toEqual([4, 4, 4, 4, 4]);
    expect(readFileSync(path.join(dir, "order"), "utf8")).toBe("s0\ns1\ns2\ns3\ns4\n");
    for (let i = 0; i < 5; i++) expect(await stepLogText(stack, name, runId, `s${i}`)).toBe(`out-s${i}`);
    // Each step after the first was started on its predecessor's exit, then confirmed: by the
    // reply that leased it, or by the answer to its completion sent with its predecessor's.
    const early = ["(started early)", "(ran ahead, completed with its predecessor)"];
    for (let i = 1; i < 5; i++)
      expect(said(pool, `${name}/s${i}#1`).some((l) => early.some((e) => l.includes(e)))).toBe(true);
  });

  it("runs a chain of silent steps ahead, their completions taken together with their predecessors'", async () => {
    const dir = tempDir("ahead");
    const name = "ahead-chain";
    const steps = Array.from({ length: 12 }, (_, i) => `  - name: s${i}\n    command: echo s${i} >> ${dir}/order\n`);
    const spec = `type: chain\nworkerSelector:\n  pool: slow\nsteps:\n${steps.join("")}`;
    const runId = await startDagRun(stack, name, spec);
    const d = await runEnded(stack, name, runId, 60_000);
    expect(d.statusLabel).toBe("succeeded");
    expect(readFileSync(path.join(dir, "order"), "utf8")).toBe(steps.map((_, i) => `s${i}\n`).join(""));
    // The runner hears the last answers after the run has ended: the slow link holds them.
    await waitFor("every step's completion answered on the runner", async () =>
      steps.every((_, i) => said("slow", `${name}/s${i}#1`).some((l) => answered.some((a) => l.includes(a)))),
    );
    expect(said("slow", `${name}/`).some((l) => l.includes("(ran ahead, completed with its predecessor)"))).toBe(true);
    expect(said("slow", `${name}/`).some((l) => l.includes("stopped unreported"))).toBe(false);
  });

  it("runs a chain of steps that each print a line ahead, each step's line kept with its completion", async () => {
    const name = "ahead-echo";
    const steps = Array.from({ length: 12 }, (_, i) => `  - name: s${i}\n    command: echo line-s${i}\n`);
    const spec = `type: chain\nworkerSelector:\n  pool: slow\nsteps:\n${steps.join("")}`;
    const runId = await startDagRun(stack, name, spec);
    const d = await runEnded(stack, name, runId, 60_000);
    expect(d.statusLabel).toBe("succeeded");
    for (let i = 0; i < 12; i++) expect(await stepLogText(stack, name, runId, `s${i}`)).toBe(`line-s${i}`);
    // The runner hears the last answers after the run has ended: the slow link holds them.
    await waitFor("every step's completion answered on the runner", async () =>
      steps.every((_, i) => said("slow", `${name}/s${i}#1`).some((l) => answered.some((a) => l.includes(a)))),
    );
    expect(said("slow", `${name}/`).some((l) => l.includes("(ran ahead, completed with its predecessor)"))).toBe(true);
    expect(said("slow", `${name}/`).some((l) => l.includes("stopped unreported"))).toBe(false);
  });

  it("kills the step started early and reports nothing of it when the run was stopped as its predecessor ended", async () => {
    const dir = tempDir("stopped");
    const name = "early-stopped";
    // `a` has confirmed its lease (its first heartbeat, half a second in) when it says it started;
    // it ends with 0 once told to, with output that keeps its completion behind its log.
    const spec = `type: chain
workerSelector:
  pool: helper
steps:
  - name: a
    script: |
      sleep 2
      touch ${dir}/a-started
      while [ ! -e ${dir}/go ]; do sleep 0.01; done
      head -c 2000000 /dev/zero | tr '\\0' x
      exit 0
  - name: b
    script: |
      echo $$ > ${dir}/b.pid
      sleep 60
`;
    const runId = await startDagRun(stack, name, spec);
    await waitFor("a to start", async () => existsSync(path.join(dir, "a-started")), 60_000);
    const stop = await stack.api("POST", `/dag-runs/${name}/${runId}/stop`);
    expect(stop.status, JSON.stringify(stop.body)).toBe(200);
    // The runner has not heard of the stop (its next heartbeat is seconds away): a exits 0.
    writeFileSync(path.join(dir, "go"), "");
    const pid = Number(
      await waitFor(
        "b to start",
        async () => existsSync(path.join(dir, "b.pid")) && readFileSync(path.join(dir, "b.pid"), "utf8").trim(),
        60_000,
      ),
    );
    expect(pid).toBeGreaterThan(0);
    await waitFor("b's process to be killed", async () => !alive(pid), 30_000);
    const d = await runEnded(stack, name, runId, 60_000);
    expect(d.statusLabel).toBe("aborted");
    const b = d.nodes.find((n: { step: { name: string } }) => n.step.name === "b");
    expect(b.statusLabel).toBe("aborted");
    expect(b.startedAt).toBe("");
    expect(await stepLogText(stack, name, runId, "b")).toBe("");
    expect(said("helper", `${name}/b#1`).some((l) => l.includes("started early, stopped unreported"))).toBe(true);
    expect(said("helper", `${name}/b#1`).some((l) => l.includes("leased by"))).toBe(false);
    // Its output files on the runner's host are gone with it.
    const runDir = path.join(logDirs.helper as string, name, runId);
    expect(readdirSync(runDir).filter((f) => f.startsWith("b."))).toEqual([]);
  });

  it("starts each step only once the server leased it when early start is off", async () => {
    const dir = tempDir("late");
    const name = "early-off";
    const runId = await startDagRun(stack, name, chain("late", 3, dir));
    const d = await runEnded(stack, name, runId, 60_000);
    expect(d.statusLabel).toBe("succeeded");
    expect(readFileSync(path.join(dir, "order"), "utf8")).toBe("s0\ns1\ns2\n");
    expect(said("late", `${name}/s1#1`).some((l) => l.includes("leased by"))).toBe(true);
    expect(said("late", "started early")).toEqual([]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
