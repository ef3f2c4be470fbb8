// dagflare start, enqueue, status, runs, logs, stop, retry, approve and reject, run as a real process
// against the real local stack (wrangler dev and a real runner).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../../scripts/build-cli.mjs";
import { runEnded, type Stack, startStack, USER_TOKEN, waitFor } from "../e2e/harness";
import { CliUser, lines } from "./harness";

const SEQ_25000 = Array.from({ length: 25_000 }, (_, i) => `${i + 1}\n`).join("");

let stack: Stack;
let user: CliUser;

const DAGS = {
  "hello.yaml": `params:
  - NAME: world
steps:
  - name: greet
    command: echo "hello $NAME"
  - name: count
    command: sh -c 'echo one; echo two >&2; echo three'
`,
  "broken.yaml": `steps:
  - name: fine
    command: echo fine
  - name: breaks
    command: sh -c 'echo breaking; exit 3'
`,
  "slow.yaml": `steps:
  - name: wait
    command: sh -c 'echo started; sleep 60'
`,
  "queued.yaml": `params:
  - WHY: first
steps:
  - name: hold
    command: sh -c 'echo "$WHY"; sleep 60'
`,
  "long.yaml": `steps:
  - name: numbers
    command: seq 1 25000
`,
  "gate.yaml": `steps:
  - name: build
    command: echo built
  - name: release
    command: echo released
    approval: true
`,
};

beforeAll(async () => {
  await buildCli();
  stack = await startStack({ runners: ["cli-runner"] });
  user = new CliUser({ DAGFLARE_SERVER: stack.url, DAGFLARE_TOKEN: USER_TOKEN });
  const pushed = await user.run(["push", user.dagFolder("dags", DAGS)]);
  expect(pushed.code, pushed.stderr).toBe(0);
});
afterAll(() => stack?.stop());

/** Starts a DAG through the command and returns the run id it printed. */
async function started(dag: string, ...args: string[]): Promise<string> {
  const r = await user.run(["start", dag, ...args, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).dagRunId;
}

describe("dagflare start", () => {
  it("--wait exits 0 when the run succeeded and passes KEY=VALUE parameters, spaces kept", async () => {
    const r = await user.run(["start", "hello", "--wait", "--", "NAME=big world"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^run \S+ succeeded in /m);
    const runId = /started hello run (\S+)/.exec(r.stdout)?.[1] as string;
    const log = await user.run(["logs", "hello", runId, "greet"]);
    expect(log.stdout).toBe("hello big world\n");
  });

  it("--wait exits 1 when the run failed and names the failed step and its exit code", async () => {
    const r = await user.run(["start", "broken", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/run \S+ failed in/);
    expect(r.stdout).toMatch(/breaks: failed \(exit 3\)/);
  });

  it("--follow prints each step's status and its log lines as plain lines when not a terminal", async () => {
    const r = await user.run(["start", "hello", "--follow"]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out).toContain("greet | hello world");
    expect(out).toContain("count | one");
    expect(out).toContain("count | two");
    expect(out).toContain("count | three");
    expect(out.some((l) => /^greet {2}succeeded {2}\d/.test(l))).toBe(true);
    expect(out.indexOf("greet | hello world")).toBeLessThan(out.findIndex((l) => l.startsWith("count | ")));
    expect(out.at(-1)).toMatch(/^run \S+ succeeded in /);
  });

  it("Ctrl-C during --follow stops watching, leaves the run running and says how to stop it", async () => {
    const watching = user.spawn(["start", "slow", "--follow"]);
    await waitFor("the step's first line", async () => watching.stdout().includes("wait | started"));
    watching.child.kill("SIGINT");
    const r = await watching.done;
    expect(r.code).toBe(130);
    const runId = /started slow run (\S+)/.exec(r.stdout)?.[1] as string;
    expect(lines(r.stderr)).toEqual([
      `stopped watching; run ${runId} goes on. Stop it with: dagflare stop slow ${runId}`,
    ]);
    expect(JSON.parse((await user.run(["status", "slow", runId, "--json"])).stdout).statusLabel).toBe("running");
    expect((await user.run(["stop", "slow", runId])).code).toBe(0);
  });

  it("without --wait prints the run id and returns at once", async () => {
    const r = await user.run(["start", "hello"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^started hello run [0-9a-f-]{36}$/m);
  });

  it("refuses a parameter whose name is not a variable name, with exit code 2", async () => {
    const r = await user.run(["start", "hello", "--", "1X=y"]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`error: parameter "1X=y": the name before = must be letters, digits and _`]);
  });
});

describe("dagflare enqueue", () => {
  /** A run's status through the command. */
  const statusOf = async (dag: string, runId: string) =>
    JSON.parse((await user.run(["status", dag, runId, "--json"])).stdout) as Record<string, any>;
  const runningNow = (dag: string, runId: string) =>
    waitFor(`run ${runId} to run`, async () => (await statusOf(dag, runId)).statusLabel === "running");

  it("queues a run with its parameters and run id; it waits behind the one running, then runs", async () => {
    expect((await user.run(["enqueue", "queued", "--run-id", "queued-1"])).code).toBe(0);
    await runningNow("queued", "queued-1");
    const r = await user.run(["enqueue", "queued", "--run-id", "queued-2", "--", "WHY=second in line"]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "queued queued run queued-2",
      "see it wait or run with: dagflare status queued queued-2",
    ]);
    const waiting = await statusOf("queued", "queued-2");
    expect(waiting.statusLabel).toBe("queued");
    expect((await user.run(["stop", "queued", "queued-1"])).code).toBe(0);
    await waitFor(
      "the queued run's step to print its parameter",
      async () => (await user.run(["logs", "queued", "queued-2", "hold"])).stdout === "second in line\n",
    );
    expect((await user.run(["stop", "queued", "queued-2"])).code).toBe(0);
  });

  it("puts a run on the named queue given with --queue, and prints its id with --json", async () => {
    const first = await user.run(["enqueue", "slow", "--queue", "cli-line", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const ahead = JSON.parse(first.stdout).dagRunId as string;
    await runningNow("slow", ahead);
    const second = await user.run(["enqueue", "queued", "--queue", "cli-line", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    const { name, dagRunId } = JSON.parse(second.stdout);
    expect(name).toBe("queued");
    expect((await statusOf("queued", dagRunId)).waitingFor).toContain("queue cli-line at its maxConcurrency 1");
    expect((await user.run(["stop", "slow", ahead])).code).toBe(0);
    await runningNow("queued", dagRunId);
    expect((await user.run(["stop", "queued", dagRunId])).code).toBe(0);
  });

  it("refuses a bad queue name with the server's message and exit code 1", async () => {
    const r = await user.run(["enqueue", "hello", "--queue", "no spaces"]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)[0]).toContain(`invalid queue name "no spaces": use letters, digits, _ and - (at most 64)`);
  });
});

describe("dagflare status, runs and logs", () => {
  it("status shows every step with its status, duration and exit code", async () => {
    const runId = await started("hello", "--wait");
    const r = await user.run(["status", "hello", runId]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe(`hello run ${runId}: succeeded`);
    expect(r.stdout).toMatch(/^STEP\s+STATUS\s+DURATION\s+EXIT/m);
    expect(r.stdout).toMatch(/^greet\s+succeeded\s+\d+(ms|\.\ds)\s+0\s+1/m);
    expect(r.stdout).toMatch(/^count\s+succeeded/m);
  });

  it("status --json prints the API's run details", async () => {
    const r = await user.run(["status", "hello", "--json"]);
    const details = JSON.parse(r.stdout);
    expect(details.name).toBe("hello");
    expect(details.nodes.map((n: { step: { name: string } }) => n.step.name)).toEqual(["greet", "count"]);
  });

  it("runs lists a DAG's runs, newest first, and filters by status", async () => {
    const failed = await user.run(["start", "broken", "--wait", "--json"]);
    expect(failed.code).toBe(1);
    const runId = JSON.parse(failed.stdout).dagRunId;
    const all = await user.run(["runs", "broken"]);
    expect(all.code).toBe(0);
    expect(lines(all.stdout)[0]).toMatch(/^DAG\s+RUN\s+STATUS\s+STARTED\s+DURATION$/);
    expect(lines(all.stdout)[1]).toMatch(new RegExp(`^broken\\s+${runId}\\s+failed`));
    const ok = await user.run(["runs", "broken", "--status", "succeeded", "--json"]);
    expect(JSON.parse(ok.stdout)).toEqual([]);
  });

  it("logs prints a step's stdout, or its stderr with --stderr, or the run's own log", async () => {
    const runId = await started("hello", "--wait");
    expect((await user.run(["logs", "hello", runId, "count"])).stdout).toBe("one\nthree\n");
    expect((await user.run(["logs", "hello", runId, "count", "--stderr"])).stdout).toBe("two\n");
    expect((await user.run(["logs", "hello", "latest"])).stdout).toMatch(/run succeeded/);
  });

  it("logs prints a log longer than the API's 10,000-line window in full", async () => {
    const runId = await started("long", "--wait");
    const r = await user.run(["logs", "long", runId, "numbers"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(SEQ_25000);
  });

  it("start --follow shows every line of a log longer than the API's window", async () => {
    const r = await user.run(["start", "long", "--follow"]);
    expect(r.code, r.stderr).toBe(0);
    const shown = lines(r.stdout)
      .filter((l) => l.startsWith("numbers | "))
      .map((l) => l.slice("numbers | ".length));
    expect(`${shown.join("\n")}\n`).toBe(SEQ_25000);
  });

  it("logs -f prints a running step's log as it grows and returns when the step has ended", async () => {
    const dir = user.dagFolder("ticks", {
      "ticks.yaml": "steps:\n  - name: tick\n    command: sh -c 'for i in 1 2 3; do echo tick $i; sleep 0.5; done'\n",
    });
    expect((await user.run(["push", dir])).code).toBe(0);
    const runId = await started("ticks");
    const r = await user.run(["logs", "ticks", runId, "tick", "-f"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("tick 1\ntick 2\ntick 3\n");
  });
});

describe("dagflare stop, retry, approve and reject", () => {
  it("stop ends a running run aborted, its step killed", async () => {
    const runId = await started("slow");
    await waitFor("the step to start", async () => (await user.run(["logs", "slow", runId, "wait"])).stdout !== "");
    const r = await user.run(["stop", "slow", runId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`stopping slow run ${runId}: its running steps are being killed\n`);
    expect((await runEnded(stack, "slow", runId)).statusLabel).toBe("aborted");
  });

  it("stop of a run that has ended says so in one line and exits 1", async () => {
    const runId = await started("hello", "--wait");
    const r = await user.run(["stop", "hello", runId]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([`error: DAG-run ${runId} is not running (succeeded)`]);
  });

  it("retry --failed-only reruns only the failed step, and the run then succeeds", async () => {
    // The step fails until this file exists; the runner runs its steps on this host.
    const marker = path.join(user.home, "retry-marker");
    const dir = user.dagFolder("retry", {
      "retryable.yaml": `steps:\n  - name: first\n    command: echo first\n  - name: flaky\n    command: test -e ${marker}\n`,
    });
    expect((await user.run(["push", dir])).code).toBe(0);
    const failed = await user.run(["start", "retryable", "--wait"]);
    expect(failed.code).toBe(1);
    const runId = /started retryable run (\S+)/.exec(failed.stdout)?.[1] as string;
    writeFileSync(marker, "");
    const r = await user.run(["retry", "retryable", runId, "--failed-only"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`retrying its failed steps of retryable run ${runId}: dagflare status retryable ${runId}\n`);
    const details = await waitFor("the retried run to succeed", async () => {
      const d = JSON.parse((await user.run(["status", "retryable", runId, "--json"])).stdout);
      return d.statusLabel === "succeeded" ? d : undefined;
    });
    expect(details.nodes.map((n: { attempt: number }) => n.attempt)).toEqual([1, 2]);
  });

  it("approve lets a waiting step run; reject ends the run rejected", async () => {
    const approved = await started("gate");
    await waitFor("release to wait", async () =>
      (await user.run(["status", "gate", approved])).stdout.match(/^release\s+waiting/m),
    );
    const a = await user.run(["approve", "gate", approved, "release", "--reason", "looks good"]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(`approved release of gate run ${approved}\n`);
    expect((await runEnded(stack, "gate", approved)).statusLabel).toBe("succeeded");

    const rejected = await started("gate");
    await waitFor("release to wait", async () =>
      (await user.run(["status", "gate", rejected])).stdout.match(/^release\s+waiting/m),
    );
    expect((await user.run(["reject", "gate", rejected, "release"])).code).toBe(0);
    expect((await runEnded(stack, "gate", rejected)).statusLabel).toBe("rejected");
  });
});
