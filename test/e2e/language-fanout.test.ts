// `parallel` end to end: a table of DAG files run on real runner processes against one
// `wrangler dev`, a parallel call with its aggregate output, then a fan-out across a server restart.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, stepLogText, tempDir, waitFor } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["fan-a", "fan-b"], leaseTtlMs: 3_000 });
});

afterAll(async () => {
  await stack?.stop();
});

interface Case {
  name: string;
  /** `$DIR` in the spec is a fresh directory of the case. */
  spec: string;
  status: string;
  /** Every node of run details, in order, with its status. */
  nodes: Array<[string, string]>;
  check?: (ctx: {
    dir: string;
    log: (step: string, stream?: string) => Promise<string>;
    node: (step: string) => any;
  }) => Promise<void> | void;
}

const CASES: Case[] = [
  {
    name: "fanout",
    spec: `type: graph
steps:
  - name: gen
    command: echo '["a","b","c"]'
    output: LIST
  - name: fan
    depends: gen
    command: touch $DIR/on.$ITEM; ls $DIR | grep -c '^on' >> $DIR/counts; sleep 1; rm $DIR/on.$ITEM; echo "item=$ITEM"
    parallel:
      items: \${LIST}
      maxConcurrent: 2
  - name: after
    depends: fan
    command: ls $DIR | grep -c '^on' > $DIR/after; echo done
`,
    status: "succeeded",
    nodes: [
      ["gen", "succeeded"],
      ["fan", "succeeded"],
      ["fan[1]", "succeeded"],
      ["fan[2]", "succeeded"],
      ["fan[3]", "succeeded"],
      ["after", "succeeded"],
    ],
    check: async ({ dir, log }) => {
      expect(await log("fan[1]")).toBe("item=a");
      expect(await log("fan[2]")).toBe("item=b");
      expect(await log("fan[3]")).toBe("item=c");
      const counts = readFileSync(path.join(dir, "counts"), "utf8").trim().split("\n").map(Number);
      expect(counts).toHaveLength(3);
      expect(Math.max(...counts)).toBeLessThanOrEqual(2);
      // The dependent ran after every instance had ended.
      expect(readFileSync(path.join(dir, "after"), "utf8").trim()).toBe("0");
      expect(await log("after")).toBe("done");
    },
  },
  {
    name: "fanout-lines-and-path",
    spec: `type: graph
steps:
  - name: gen
    command: printf '{"hosts":[{"n":"h1"},{"n":"h2"}]}'
    output: CFG
  - name: lines
    command: printf 'x\\ny z\\n'
    output: WORDS
  - name: hosts
    depends: gen
    command: echo "$ITEM" > $DIR/host.$DAG_RUN_STEP_NAME
    parallel: \${CFG.hosts}
  - name: words
    depends: lines
    command: echo "word=$ITEM"
    parallel: \${WORDS}
`,
    status: "succeeded",
    nodes: [
      ["gen", "succeeded"],
      ["lines", "succeeded"],
      ["hosts", "succeeded"],
      ["hosts[1]", "succeeded"],
      ["hosts[2]", "succeeded"],
      ["words", "succeeded"],
      ["words[1]", "succeeded"],
      ["words[2]", "succeeded"],
      ["words[3]", "succeeded"],
    ],
    check: async ({ dir, log }) => {
      expect(readFileSync(path.join(dir, "host.hosts[2]"), "utf8")).toBe('{"n":"h2"}\n');
      expect(await log("words[3]")).toBe("word=z");
    },
  },
  {
    name: "fanout-failures",
    spec: `type: graph
steps:
  - name: gen
    command: echo "0 3 0"
    output: CODES
  - name: soft
    depends: gen
    command: echo "exit $ITEM"; exit $ITEM
    parallel: \${CODES}
    continueOn:
      exitCode: [3]
  - name: after-soft
    depends: soft
    command: echo ran
  - name: none
    command: echo '{"list":[]}'
    output: EMPTY
  - name: empty
    depends: none
    command: touch $DIR/never
    parallel: \${EMPTY.list}
  - name: bad
    depends: none
    command: touch $DIR/never
    parallel: \${EMPTY}
  - name: after-bad
    depends: bad
    command: touch $DIR/never
`,
    status: "failed",
    nodes: [
      ["gen", "succeeded"],
      ["soft", "partially_succeeded"],
      ["soft[1]", "succeeded"],
      ["soft[2]", "failed"],
      ["soft[3]", "succeeded"],
      ["after-soft", "succeeded"],
      ["none", "succeeded"],
      ["empty", "succeeded"],
      ["bad", "failed"],
      ["after-bad", "aborted"],
    ],
    check: async ({ dir, log, node }) => {
      expect(await log("soft[2]")).toBe("exit 3");
      expect(node("soft")).toMatchObject({ error: expect.stringContaining("instance soft[2] failed") });
      expect(node("empty").error).toBeUndefined();
      expect(node("bad").error).toBe("parallel items ${EMPTY}: the value is a JSON object, not a list");
      expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(path.join(dir, "never"))).toBe(false);
    },
  },
];

interface ShownNode {
  step: { name: string };
  statusLabel: string;
  error?: string;
  instances?: ShownNode[];
}

/** Every node of run details, each parallel step's instances right after its own node. */
const withInstances = (d: { nodes: ShownNode[] }): ShownNode[] => d.nodes.flatMap((n) => [n, ...(n.instances ?? [])]);

const start = (name: string, spec: string) => startDagRun(stack, name, spec);
const finished = (name: string, runId: string, timeoutMs?: number) => runEnded(stack, name, runId, timeoutMs);

describe("parallel items from a variable, end to end on real runners", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (name, c) => {
    const dir = tempDir(name);
    const runId = await start(name, c.spec.replaceAll("$DIR", dir));
    const d = await finished(name, runId);
    const nodes = withInstances(d).map((n) => [n.step.name, n.statusLabel]);
    expect({ status: d.statusLabel, nodes }).toEqual({ status: c.status, nodes: c.nodes });
    const log = (step: string, stream?: string) => stepLogText(stack, name, runId, step, stream);
    const node = (step: string) => withInstances(d).find((n) => n.step.name === step);
    await c.check?.({ dir, log, node });
  });

  it("a parallel call without params gives each child its item; later steps read Dagu's aggregate; one node shows it", async () => {
    const dir = tempDir("parallel-call");
    const spec = `steps:
  - name: deploy
    call: region
    parallel:
      items:
        - solo
        - REGION: eu
          VERSION: 2
    output: RESULTS
  - name: report
    command: echo "\${RESULTS.summary.succeeded} of \${RESULTS.summary.total}; \${RESULTS.outputs[1].SAID}"
---
name: region
params: REGION=none VERSION=0
steps:
  - name: say
    command: echo "$REGION-$VERSION-$1" | tee ${dir}/said.$REGION
    output: SAID
`;
    const runId = await start("parallel-call", spec);
    const d = await finished("parallel-call", runId);
    expect(d.statusLabel).toBe("succeeded");
    // Dagu's client sees one node for the parallel step, its two child runs listed with their params.
    expect(d.nodes.map((n: ShownNode) => [n.step.name, n.statusLabel])).toEqual([
      ["deploy", "succeeded"],
      ["report", "succeeded"],
    ]);
    const deploy = d.nodes[0];
    expect(deploy.subRuns.map((r: { params: string }) => r.params)).toEqual(["solo", '{"REGION":"eu","VERSION":2}']);
    expect(deploy.instances.map((n: ShownNode) => n.step.name)).toEqual(["deploy[1]", "deploy[2]"]);
    // A string item is the child's params text ($1), a mapping its named params.
    expect(readFileSync(path.join(dir, "said.none"), "utf8")).toBe("none-0-solo\n");
    expect(readFileSync(path.join(dir, "said.eu"), "utf8")).toBe("eu-2-\n");
    expect(await stepLogText(stack, "parallel-call", runId, "report")).toBe("2 of 2; eu-2-");
    const outputs = (await stack.api("GET", `/dag-runs/parallel-call/${runId}/outputs`)).body.variables;
    const results = JSON.parse(outputs.RESULTS);
    expect(results.summary).toEqual({ total: 2, succeeded: 2, failed: 0 });
    expect(results.results).toEqual([
      {
        name: "region",
        dagRunId: deploy.subRuns[0].dagRunId,
        params: "solo",
        outputs: { SAID: "none-0-solo" },
        status: "succeeded",
      },
      {
        name: "region",
        dagRunId: deploy.subRuns[1].dagRunId,
        params: '{"REGION":"eu","VERSION":2}',
        outputs: { SAID: "eu-2-" },
        status: "succeeded",
      },
    ]);
    expect(results.outputs).toEqual([{ SAID: "none-0-solo" }, { SAID: "eu-2-" }]);
  });

  it("a fan-out whose instances are running when the server restarts finishes after it", async () => {
    const dir = tempDir("fanout-restart");
    const spec = `type: graph
steps:
  - name: gen
    command: echo "p q"
    output: LIST
  - name: fan
    depends: gen
    command: touch ${dir}/started.$ITEM; sleep 2; echo "got $ITEM"
    parallel: \${LIST}
  - name: after
    depends: fan
    command: echo after
`;
    const runId = await start("fanout-restart", spec);
    await waitFor("an instance to start", async () => existsSync(path.join(dir, "started.p")));
    await stack.restartWorker();
    const d = await finished("fanout-restart", runId, 60_000);
    expect(withInstances(d).map((n) => [n.step.name, n.statusLabel])).toEqual([
      ["gen", "succeeded"],
      ["fan", "succeeded"],
      ["fan[1]", "succeeded"],
      ["fan[2]", "succeeded"],
      ["after", "succeeded"],
    ]);
    const r = await stack.api("GET", `/dag-runs/fanout-restart/${runId}/steps/${encodeURIComponent("fan[2]")}/log`);
    expect(r.body.content).toBe("got q");
  });
});
