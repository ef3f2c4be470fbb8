// Real DAGs on real runner processes against a real `wrangler dev`.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack, tempDir, waitFor } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["runner-a", "runner-b"], leaseTtlMs: 3_000 });
});

afterAll(async () => {
  await stack?.stop();
});

async function runDag(name: string, spec: string, params?: string): Promise<string> {
  const created = await stack.api("POST", "/dags", { name, spec });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const started = await stack.api("POST", `/dags/${name}/start`, params ? { params } : {});
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  return started.body.dagRunId;
}

async function details(name: string, runId: string) {
  const r = await stack.api("GET", `/dag-runs/${name}/${runId}`);
  expect(r.status).toBe(200);
  return r.body.dagRunDetails;
}

const TERMINAL = new Set(["succeeded", "failed", "aborted", "partially_succeeded"]);

async function finished(name: string, runId: string, timeoutMs = 30_000) {
  return waitFor(
    `${name} to finish`,
    async () => {
      const d = await details(name, runId);
      return TERMINAL.has(d.statusLabel) ? d : undefined;
    },
    timeoutMs,
  );
}

const node = (d: { nodes: any[] }, step: string) => d.nodes.find((n) => n.step.name === step);

async function stepLog(name: string, runId: string, step: string, query = "") {
  const r = await stack.api("GET", `/dag-runs/${name}/${runId}/steps/${step}/log${query}`);
  expect(r.status).toBe(200);
  return r.body.content as string;
}

describe("end to end, on real runners", () => {
  it("reports an uptime counted from when the Worker started, not from 1970", async () => {
    const r = await stack.api("GET", "/health");
    expect(r.status).toBe(200);
    expect(r.body.uptime).toBeGreaterThanOrEqual(0);
    expect(r.body.uptime).toBeLessThan(600);
  });

  it("runs a diamond whose steps write files, each after its dependencies", async () => {
    const dir = tempDir("diamond");
    const spec = `type: graph
env:
  - OUT: ${dir}
steps:
  - name: top
    command: echo top > $OUT/top
  - name: left
    depends: top
    command: cat $OUT/top > $OUT/left && echo left >> $OUT/left
  - name: right
    depends: top
    command: cat $OUT/top > $OUT/right && echo right >> $OUT/right
  - name: bottom
    depends: [left, right]
    command: cat $OUT/left $OUT/right | tee $OUT/bottom
`;
    const runId = await runDag("diamond", spec);
    const d = await finished("diamond", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(readFileSync(path.join(dir, "bottom"), "utf8")).toBe("top\nleft\ntop\nright\n");
    expect(await stepLog("diamond", runId, "bottom")).toBe("top\nleft\ntop\nright");
    expect(d.nodes.every((n: { statusLabel: string }) => n.statusLabel === "succeeded")).toBe(true);
  });

  it("retries a step that fails once and then succeeds", async () => {
    const dir = tempDir("retry");
    const spec = `steps:
  - name: flaky
    command: if [ -f ${dir}/tried ]; then echo second try; else touch ${dir}/tried; echo first try >&2; exit 7; fi
    retryPolicy:
      limit: 2
      intervalSec: 1
`;
    const runId = await runDag("flaky", spec);
    const d = await finished("flaky", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(node(d, "flaky")).toMatchObject({ retryCount: 1, attempt: 2 });
    expect(await stepLog("flaky", runId, "flaky")).toBe("second try");
    expect(await stepLog("flaky", runId, "flaky", "?attempt=1&stream=stderr")).toBe("first try");
  });

  it("fails a step that runs past its timeoutSec and kills it", async () => {
    const dir = tempDir("timeout");
    const spec = `steps:
  - name: slow
    command: echo $$ > ${dir}/pid; sleep 60
    timeoutSec: 1
`;
    const started = Date.now();
    const runId = await runDag("slow", spec);
    const d = await finished("slow", runId);
    expect(d.statusLabel).toBe("failed");
    expect(node(d, "slow").error).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(20_000);
    const pid = Number(readFileSync(path.join(dir, "pid"), "utf8"));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it("stops a run in the middle: the running step is killed and the rest never run", async () => {
    const dir = tempDir("stop");
    const spec = `steps:
  - name: long
    command: echo $$ > ${dir}/pid; sleep 60
  - name: never
    command: touch ${dir}/never
`;
    const runId = await runDag("stopme", spec);
    await waitFor("the long step to start", async () => existsSync(path.join(dir, "pid")));
    const stop = await stack.api("POST", `/dag-runs/stopme/${runId}/stop`);
    expect(stop.status).toBe(200);
    const d = await finished("stopme", runId, 15_000);
    expect(d.statusLabel).toBe("aborted");
    expect(node(d, "long").statusLabel).toBe("aborted");
    expect(node(d, "never").statusLabel).toBe("aborted");
    const pid = Number(readFileSync(path.join(dir, "pid"), "utf8"));
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(path.join(dir, "never"))).toBe(false);
  });

  it("passes params and outputs from step to step", async () => {
    const spec = `params: "first second"
steps:
  - name: make
    command: echo "made-$1"
    output: MADE
  - name: use
    command: echo "got $MADE and $2"
`;
    const runId = await runDag("outputs", spec);
    const d = await finished("outputs", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(await stepLog("outputs", runId, "use")).toBe("got made-first and second");
  });

  it("finishes a step on the other runner when its runner is killed with SIGKILL mid-step", async () => {
    const dir = tempDir("kill");
    const spec = `steps:
  - name: victim
    command: echo "$$" >> ${dir}/pids; sleep 2; echo finished
`;
    const runId = await runDag("victim", spec);
    const holder = await waitFor("a runner to hold the step", async () => {
      const n = node(await details("victim", runId), "victim");
      return n.statusLabel === "running" && n.runnerId ? (n.runnerId as string) : undefined;
    });
    const runner = stack.runners.get(holder);
    expect(runner).toBeDefined();
    runner?.child.kill("SIGKILL");
    const d = await finished("victim", runId, 40_000);
    expect(d.statusLabel).toBe("succeeded");
    expect(await stepLog("victim", runId, "victim")).toBe("finished");
    const other = holder === "runner-a" ? "runner-b" : "runner-a";
    const log = (await stack.api("GET", `/dag-runs/victim/${runId}/log`)).body.content as string;
    // Killed after its first heartbeat the attempt counts as lost; before it, as never confirmed.
    expect(log).toMatch(new RegExp(`lease of runner ${holder} expired|runner ${holder} never confirmed its lease`));
    expect(log).toMatch(new RegExp(`step victim attempt \\d leased to runner ${other}`));
  });
});

describe("a restart of the server", () => {
  it("loses no run: a run in the middle of a step resumes and finishes", async () => {
    const dir = tempDir("restart");
    const spec = `steps:
  - name: before
    command: echo before
  - name: during
    command: touch ${dir}/started; sleep 2; echo during
  - name: after
    command: echo after
`;
    const runId = await runDag("restart", spec);
    await waitFor("the middle step to start", async () => existsSync(path.join(dir, "started")));
    await stack.restartWorker();
    const d = await finished("restart", runId, 60_000);
    expect(d.statusLabel).toBe("succeeded");
    expect(d.nodes.map((n: { statusLabel: string }) => n.statusLabel)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(await stepLog("restart", runId, "after")).toBe("after");
  });
});
