// A runner cut off from the server, through a proxy that drops its connections: it keeps its
// step running and buffers the step's logs (the step is held back for a second, then the
// buffer is bounded, saying what it dropped); when the network comes back it reports, and if
// its lease expired meanwhile it is told so and kills the step.
// And a stop: it reaches the runner within one heartbeat and kills the step's whole group.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner } from "../../scripts/stack.mjs";
import { CutProxy } from "../support/cut-proxy";
import { RUNNER_TOKEN, type Stack, startStack, tempDir, waitFor } from "./harness";

const LEASE_TTL_MS = 5_000;
/** The runner's log buffer (runner/src/log-shipper.ts MAX_BUFFER_BYTES). */
const RUNNER_BUFFER_BYTES = 8 * 1024 * 1024;

let stack: Stack;
let proxy: CutProxy;
let cutRunner: ReturnType<typeof startRunner>;

beforeAll(async () => {
  stack = await startStack({ runners: [], leaseTtlMs: LEASE_TTL_MS });
  const { hostname, port } = new URL(stack.url);
  proxy = new CutProxy({ host: hostname, port: Number(port) });
  const url = await proxy.start();
  cutRunner = startRunner({ server: url, token: RUNNER_TOKEN, concurrency: 1, id: "behind-proxy" });
});

afterAll(async () => {
  cutRunner?.child.kill("SIGKILL");
  await proxy?.stop();
  await stack?.stop();
});

async function runDag(name: string, spec: string): Promise<string> {
  expect((await stack.api("POST", "/dags", { name, spec })).status).toBe(201);
  return (await stack.api("POST", `/dags/${name}/start`, {})).body.dagRunId;
}

const details = async (name: string, runId: string) =>
  (await stack.api("GET", `/dag-runs/${name}/${runId}`)).body.dagRunDetails;
const finished = (name: string, runId: string, timeoutMs = 60_000) =>
  waitFor(
    `${name} to finish`,
    async () => {
      const d = await details(name, runId);
      return ["succeeded", "failed", "aborted"].includes(d.statusLabel) ? d : undefined;
    },
    timeoutMs,
  );
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a runner cut off from the server", () => {
  it("keeps its step running, buffers its logs up to a bound, says what it dropped, and reports when back", async () => {
    const dir = tempDir("cut-short");
    const burst = RUNNER_BUFFER_BYTES + 1024 * 1024;
    const spec = `steps:
  - name: chatty
    command: |
      echo before
      echo $$ > ${dir}/pid
      while [ ! -e ${dir}/cut ]; do sleep 0.05; done
      head -c ${burst} /dev/zero | tr '\\0' x
      echo
      echo after-burst
      while [ ! -e ${dir}/restored ]; do sleep 0.05; done
      echo last
`;
    const runId = await runDag("chatty", spec);
    await waitFor("the step's first line to reach the server", async () => {
      const log = await stack.api("GET", `/dag-runs/chatty/${runId}/steps/chatty/log`);
      return log.body.content === "before";
    });
    proxy.cut("refuse");
    writeFileSync(path.join(dir, "cut"), "");
    const pid = Number(readFileSync(path.join(dir, "pid"), "utf8"));
    // Well within the lease TTL: the lease survives the cut.
    await sleep(2_000);
    expect(alive(pid)).toBe(true);
    proxy.restore();
    writeFileSync(path.join(dir, "restored"), "");

    const d = await finished("chatty", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(d.nodes[0].attempt).toBe(1);
    const log = (await stack.api("GET", `/dag-runs/chatty/${runId}/steps/chatty/log`)).body.content as string;
    expect(log.startsWith("before\n")).toBe(true);
    expect(log.endsWith("after-burst\nlast")).toBe(true);
    // The runner says on stderr, in the step's own log, how much it dropped.
    const stderr = (await stack.api("GET", `/dag-runs/chatty/${runId}/steps/chatty/log?stream=stderr`)).body
      .content as string;
    const notices = [
      ...stderr.matchAll(
        /\[dagflare runner: (\d+) bytes of output were dropped: the server could not be reached and the runner's log buffer of 8388608 bytes was full\]/g,
      ),
    ];
    expect(notices.length).toBeGreaterThan(0);
    const dropped = notices.reduce((n, m) => n + Number(m[1]), 0);
    // Kept: the buffer, plus the one batch (256 KiB at most) that was on the wire when the cut came.
    expect(dropped).toBeGreaterThanOrEqual(burst - RUNNER_BUFFER_BYTES - 256 * 1024);
    // Only the oldest output was dropped, and exactly what the runner says it dropped.
    const xs = log.match(/x/g)?.length ?? 0;
    expect(xs + dropped).toBe(burst);
    const logRead = await stack.api("GET", `/dag-runs/chatty/${runId}/steps/chatty/log?tail=1`);
    expect(logRead.body.droppedBytes).toBe(dropped);
    const runLog = (await stack.api("GET", `/dag-runs/chatty/${runId}/log`)).body.content as string;
    expect(runLog).toContain(`step chatty: the runner dropped ${dropped} bytes of its log (the step's log says why)`);
    expect(cutRunner.output.join("\n")).toMatch(/server unreachable/);
    expect(cutRunner.output.join("\n")).toMatch(/server reachable again after \d+ s/);
  });

  it("is told when back that its lease expired, kills its step, and the step runs elsewhere once", async () => {
    const dir = tempDir("cut-long");
    const spec = `steps:
  - name: slow
    command: |
      echo "$DAGFLARE_ATTEMPT $$" >> ${dir}/starts
      sleep 10
      echo "$DAGFLARE_ATTEMPT" >> ${dir}/ends
`;
    const runId = await runDag("slow", spec);
    await waitFor("the step to start behind the proxy", async () => existsSync(path.join(dir, "starts")));
    const [attempt, pidText] = readFileSync(path.join(dir, "starts"), "utf8").trim().split(" ");
    expect(attempt).toBe("1");
    const pid = Number(pidText);
    // After its first heartbeat (0.5 s), which confirms the lease: the attempt then counts.
    await sleep(1_200);
    proxy.cut("blackhole");
    stack.addRunner("direct", 1);
    const moved = await waitFor(
      "the step to be dispatched again to the connected runner",
      async () => {
        const n = (await details("slow", runId)).nodes[0];
        return n.runnerId === "direct" && n.attempt === 2 ? n : undefined;
      },
      LEASE_TTL_MS * 3,
    );
    expect(moved.statusLabel).toBe("running");
    // Cut off, the first runner kept its process running all along.
    expect(alive(pid)).toBe(true);
    const restoredAt = Date.now();
    proxy.restore();
    await waitFor("the first attempt's process to be killed", async () => !alive(pid), 5_000);
    expect(Date.now() - restoredAt).toBeLessThan(5_000);
    expect(cutRunner.output.join("\n")).toMatch(/slow\/slow#1 .*lease no longer current/);

    const d = await finished("slow", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(d.nodes[0].attempt).toBe(2);
    // Only the accepted attempt finished its work.
    expect(readFileSync(path.join(dir, "ends"), "utf8")).toBe("2\n");
    const runLog = (await stack.api("GET", `/dag-runs/slow/${runId}/log`)).body.content as string;
    expect(runLog).toMatch(/lease of runner behind-proxy expired/);
  });

  it("delivers a stop within one heartbeat and kills the step's whole process group", async () => {
    const dir = tempDir("stop-group");
    const spec = `steps:
  - name: holder
    command: sleep 60 & echo $! > ${dir}/child; echo $$ > ${dir}/pid; wait
  - name: never
    command: touch ${dir}/never
`;
    const runId = await runDag("stop-group", spec);
    await waitFor("the step and its child to start", async () => existsSync(path.join(dir, "child")));
    await sleep(100);
    const pids = ["pid", "child"].map((f) => Number(readFileSync(path.join(dir, f), "utf8")));
    expect(pids.every(alive)).toBe(true);
    const stoppedAt = Date.now();
    expect((await stack.api("POST", `/dag-runs/stop-group/${runId}/stop`)).status).toBe(200);
    await waitFor("every process of the step to end", async () => !pids.some(alive), 10_000);
    // One heartbeat interval (a third of the TTL), plus the time to kill and reap.
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_TTL_MS / 3 + 1_500);
    const d = await finished("stop-group", runId);
    expect(d.statusLabel).toBe("aborted");
    expect(existsSync(path.join(dir, "never"))).toBe(false);
  });
});
