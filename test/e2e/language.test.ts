// The DAG language end to end: a table of DAG files, each run on real runner processes against
// one `wrangler dev`, with the statuses, logs and files a user would look at.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, stepLogText, TERMINAL, tempDir, waitFor } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["lang-a", "lang-b"], leaseTtlMs: 3_000 });
});

afterAll(async () => {
  await stack?.stop();
});

interface Case {
  name: string;
  /** `$DIR` in the spec is a fresh directory of the case. */
  spec: string;
  status: string;
  nodes: Record<string, string>;
  /** Further checks on what the run left behind. */
  check?: (ctx: {
    dir: string;
    runId: string;
    log: (step: string, stream?: string) => Promise<string>;
    outputs: () => Promise<any>;
  }) => Promise<void> | void;
}

const CASES: Case[] = [
  {
    name: "preconditions",
    spec: `type: graph
env:
  - MODE: prod
steps:
  - name: met
    command: echo ran
    preconditions:
      - test -d /
      - condition: "$MODE-\`echo x\`"
        expected: "re:^prod-x$"
  - name: unmet
    command: echo should-not-run > $DIR/unmet
    preconditions:
      - condition: "$MODE"
        expected: dev
  - name: negated
    command: echo should-not-run > $DIR/negated
    preconditions:
      - condition: "test -d /"
        negate: true
  - name: after-unmet
    depends: unmet
    command: echo should-not-run > $DIR/after
  - name: tolerant
    depends: negated
    command: echo ran
`,
    status: "succeeded",
    nodes: { met: "succeeded", unmet: "skipped", negated: "skipped", "after-unmet": "skipped", tolerant: "skipped" },
    check: async ({ dir, log }) => {
      expect(existsSync(path.join(dir, "unmet"))).toBe(false);
      expect(existsSync(path.join(dir, "negated"))).toBe(false);
      expect(await log("met")).toBe("ran");
      expect(await log("unmet", "stderr")).toMatch(/precondition not met: "\$MODE" gave "prod", expected "dev"/);
    },
  },
  {
    name: "dag-precondition",
    spec: `preconditions:
  - condition: "test -f $DIR/missing"
steps:
  - name: a
    command: touch $DIR/a
`,
    status: "aborted",
    nodes: { a: "skipped" },
    check: ({ dir }) => expect(existsSync(path.join(dir, "a"))).toBe(false),
  },
  {
    name: "continue-retry",
    spec: `type: graph
steps:
  - name: warn
    command: echo "WARN disk almost full"; exit 3
    continueOn:
      output: "re:^WARN"
  - name: marked
    command: exit 4
    continueOn: { exitCode: [4], markSuccess: true }
  - name: flaky
    command: n=$(cat $DIR/n 2>/dev/null || echo 0); echo $((n+1)) > $DIR/n; [ $n -ge 1 ] || exit 75
    retryPolicy: { limit: 3, intervalSec: 1, backoff: 2, exitCode: [75] }
  - name: hard
    command: exit 9
    retryPolicy: { limit: 3, intervalSec: 1, exitCode: [75] }
    continueOn: failed
  - name: end
    depends: [warn, marked, flaky]
    command: echo end
`,
    status: "partially_succeeded",
    nodes: { warn: "failed", marked: "succeeded", flaky: "succeeded", hard: "failed", end: "succeeded" },
    check: ({ dir }) => expect(readFileSync(path.join(dir, "n"), "utf8")).toBe("2\n"),
  },
  {
    name: "repeat",
    spec: `steps:
  - name: poll
    command: n=$(cat $DIR/n 2>/dev/null || echo 0); echo $((n+1)) > $DIR/n; echo "poll $n"
    repeatPolicy:
      repeat: until
      condition: "$(cat $DIR/n)"
      expected: "3"
      intervalSec: 1
`,
    status: "succeeded",
    nodes: { poll: "succeeded" },
    check: async ({ dir, log }) => {
      expect(readFileSync(path.join(dir, "n"), "utf8")).toBe("3\n");
      expect(await log("poll")).toBe("poll 2");
    },
  },
  {
    name: "timeout-signal",
    spec: `timeoutSec: 2
steps:
  - name: slow
    command: trap 'echo INT > $DIR/signal; exit 1' INT; sleep 30; echo never > $DIR/never
    signalOnStop: SIGINT
  - name: next
    command: echo next
`,
    status: "failed",
    nodes: { slow: "aborted", next: "aborted" },
    check: ({ dir }) => {
      expect(readFileSync(path.join(dir, "signal"), "utf8")).toBe("INT\n");
      expect(existsSync(path.join(dir, "never"))).toBe(false);
    },
  },
  {
    name: "handlers",
    spec: `handlerOn:
  success: echo "success $DAG_RUN_STATUS" >> $DIR/handlers
  failure: echo "failure $DAG_RUN_STATUS" >> $DIR/handlers
  exit: echo "exit $DAG_RUN_STATUS $DAG_RUN_STEP_NAME" >> $DIR/handlers
steps:
  - name: ok
    command: echo fine
  - name: soft
    command: exit 2
    continueOn: { exitCode: [2] }
`,
    status: "partially_succeeded",
    nodes: { ok: "succeeded", soft: "failed" },
    check: ({ dir }) => {
      expect(readFileSync(path.join(dir, "handlers"), "utf8")).toBe(
        "success partially_succeeded\nexit partially_succeeded onExit\n",
      );
    },
  },
  {
    name: "outputs",
    spec: `maxOutputSize: 64
steps:
  - name: cfg
    command: |
      echo '{"db": {"hosts": ["db1", "db2"]}}'
    output: CFG
  - name: big
    command: printf '%0100d' 0
    output: BIG
  - name: use
    command: echo "host=\${CFG.db.hosts[1]} big=\${#BIG} run=$DAG_NAME/$DAG_RUN_STEP_NAME"
`,
    status: "succeeded",
    nodes: { cfg: "succeeded", big: "succeeded", use: "succeeded" },
    check: async ({ log, outputs }) => {
      expect(await log("use")).toBe("host=db2 big=64 run=outputs/use");
      expect(await log("big", "stderr")).toMatch(/output BIG cut at 64 bytes/);
      const o = await outputs();
      expect(o.steps.map((s: { step: string }) => s.step)).toEqual(["cfg", "big"]);
      expect(o.variables.BIG).toBe("0".repeat(64));
    },
  },
  {
    name: "backticks",
    spec: `params: WHO=\`echo world\`
env:
  - YEAR: "\`echo 2024\`"
  - OUT: $DIR/\${YEAR}
steps:
  - name: show
    command: echo "$WHO $YEAR $OUT"
  - name: broken
    command: echo never
    env:
      - BAD: "\`exit 3\`"
    continueOn: failed
`,
    status: "partially_succeeded",
    nodes: { show: "succeeded", broken: "failed" },
    check: async ({ dir, log }) => {
      expect(await log("show")).toBe(`world 2024 ${dir}/2024`);
      expect(await log("broken")).toBe("");
      expect(await log("broken", "stderr")).toMatch(/env BAD: command substitution failed/);
    },
  },
  {
    name: "parallel",
    spec: `type: graph
steps:
  - name: fan
    command: touch $DIR/on.$ITEM; ls $DIR | grep -c '^on' >> $DIR/counts; sleep 1; rm $DIR/on.$ITEM; echo "item=$ITEM"
    parallel:
      items: [x, y, z, w]
      maxConcurrent: 2
  - name: after
    command: echo done
    depends: fan
`,
    status: "succeeded",
    nodes: {
      fan: "succeeded",
      "fan[1]": "succeeded",
      "fan[2]": "succeeded",
      "fan[3]": "succeeded",
      "fan[4]": "succeeded",
      after: "succeeded",
    },
    check: async ({ dir, log }) => {
      expect(await log("fan[2]")).toBe("item=y");
      const counts = readFileSync(path.join(dir, "counts"), "utf8").trim().split("\n").map(Number);
      expect(counts).toHaveLength(4);
      expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    },
  },
  {
    name: "sub-dags",
    spec: `type: graph
steps:
  - name: fan
    call: child
    parallel: [a, b, c]
    params: WHO=\${ITEM}
  - name: one
    call: child
    params:
      WHO: solo
    output: R
  - name: after
    depends: [fan, one]
    command: echo "child said \${R.outputs.OUT}"
---
name: child
params: WHO=nobody
steps:
  - name: write
    command: touch $DIR/child.$WHO; echo "got-$WHO"
    output: OUT
`,
    status: "succeeded",
    nodes: {
      fan: "succeeded",
      "fan[1]": "succeeded",
      "fan[2]": "succeeded",
      "fan[3]": "succeeded",
      one: "succeeded",
      after: "succeeded",
    },
    check: async ({ dir, runId, log }) => {
      for (const who of ["a", "b", "c", "solo"]) expect(existsSync(path.join(dir, `child.${who}`))).toBe(true);
      expect(await log("after")).toBe("child said got-solo");
      const subs = (await stack.api("GET", `/dag-runs/sub-dags/${runId}/sub-dag-runs`)).body.subRuns;
      expect(subs.map((r: { statusLabel: string }) => r.statusLabel)).toEqual(Array(4).fill("succeeded"));
      const solo = subs.find((r: { params: string }) => r.params === "WHO=solo");
      const stepLog = await stack.api(
        "GET",
        `/dag-runs/sub-dags/${runId}/sub-dag-runs/${solo.dagRunId}/steps/write/log`,
      );
      expect(stepLog.body.content).toBe("got-solo");
    },
  },
];

describe("the DAG language, end to end on real runners", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (name, c) => {
    const dir = tempDir(name);
    const runId = await startDagRun(stack, name, c.spec.replaceAll("$DIR", dir));
    const d = await runEnded(stack, name, runId);
    // A parallel step's instances are listed under its node.
    type Shown = { step: { name: string }; statusLabel: string; instances?: Shown[] };
    const nodes = Object.fromEntries(
      d.nodes.flatMap((n: Shown) => [n, ...(n.instances ?? [])]).map((n: Shown) => [n.step.name, n.statusLabel]),
    );
    expect({ status: d.statusLabel, nodes }).toEqual({ status: c.status, nodes: c.nodes });
    await c.check?.({
      dir,
      runId,
      log: (step, stream) => stepLogText(stack, name, runId, step, stream),
      outputs: async () => (await stack.api("GET", `/dag-runs/${name}/${runId}/outputs`)).body,
    });
  });
});

describe("human approval, end to end on real runners", () => {
  it("a step waits for approval with the run waiting; approve runs it, reject ends the run rejected", async () => {
    const dir = tempDir("approval");
    const spec = `steps:
  - name: build
    command: touch ${dir}/built-$DAG_RUN_ID
  - name: deploy
    depends: build
    command: touch ${dir}/deployed-$DAG_RUN_ID
    approval:
      prompt: ship it?
`;
    const created = await stack.api("POST", "/dags", { name: "approval", spec });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const runUntil = async (runId: string, labels: string[]) =>
      waitFor(`approval run ${runId} to be ${labels.join("/")}`, async () => {
        const r = await stack.api("GET", `/dag-runs/approval/${runId}`);
        return labels.includes(r.body.dagRunDetails.statusLabel) ? r.body.dagRunDetails : undefined;
      });
    const start = async () => (await stack.api("POST", "/dags/approval/start", {})).body.dagRunId as string;

    const approved = await start();
    const waiting = await runUntil(approved, ["waiting", ...TERMINAL]);
    expect(waiting.statusLabel).toBe("waiting");
    expect(existsSync(path.join(dir, `built-${approved}`))).toBe(true);
    expect(existsSync(path.join(dir, `deployed-${approved}`))).toBe(false);
    const ok = await stack.api("POST", `/dag-runs/approval/${approved}/steps/deploy/approve`, { reason: "go" });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await runUntil(approved, [...TERMINAL])).statusLabel).toBe("succeeded");
    expect(existsSync(path.join(dir, `deployed-${approved}`))).toBe(true);

    const rejected = await start();
    expect((await runUntil(rejected, ["waiting", ...TERMINAL])).statusLabel).toBe("waiting");
    const no = await stack.api("POST", `/dag-runs/approval/${rejected}/steps/deploy/reject`, { reason: "freeze" });
    expect(no.status, JSON.stringify(no.body)).toBe(200);
    const d = await runUntil(rejected, ["rejected", ...TERMINAL]);
    expect(d.statusLabel).toBe("rejected");
    expect(d.nodes.find((n: { step: { name: string } }) => n.step.name === "deploy").error).toBe("rejected: freeze");
    expect(existsSync(path.join(dir, `deployed-${rejected}`))).toBe(false);
  });
});

describe("retry, end to end on real runners", () => {
  it("a failed run retried (failed steps only) runs again in place with its params and working directory", async () => {
    const dir = tempDir("retry");
    const spec = `params:
  - DAY: today
steps:
  - name: first
    command: echo first >> ${dir}/first.log
  - name: needs-file
    depends: first
    workingDir: ${dir}
    command: cat ready && echo "$DAY $(pwd)"
`;
    expect((await stack.api("POST", "/dags", { name: "retry", spec })).status).toBe(201);
    const runId = (await stack.api("POST", "/dags/retry/start", { params: "DAY=monday" })).body.dagRunId as string;
    const finished = () => runEnded(stack, "retry", runId);
    expect((await finished()).statusLabel).toBe("failed");
    writeFileSync(path.join(dir, "ready"), "ready\n");
    const r = await stack.api("POST", `/dag-runs/retry/${runId}/retry`, { dagRunId: runId, failedOnly: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const d = await waitFor("the retried run to succeed", async () => {
      const x = await stack.api("GET", `/dag-runs/retry/${runId}`);
      return x.body.dagRunDetails.statusLabel === "succeeded" ? x.body.dagRunDetails : undefined;
    });
    expect(d.nodes.map((n: { statusLabel: string }) => n.statusLabel)).toEqual(["succeeded", "succeeded"]);
    const log = await stack.api("GET", `/dag-runs/retry/${runId}/steps/needs-file/log`);
    expect(log.body.content).toBe(`ready\nmonday ${dir}`);
    // The step that had succeeded was not run again.
    expect(readFileSync(path.join(dir, "first.log"), "utf8")).toBe("first\n");
  });
});
