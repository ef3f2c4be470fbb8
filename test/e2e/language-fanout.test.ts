// `parallel` whose items come from an output variable, end to end: a table of DAG files run on
// real runner processes against one `wrangler dev`, then a fan-out across a server restart.
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

const start = (name: string, spec: string) => startDagRun(stack, name, spec);
const finished = (name: string, runId: string, timeoutMs?: number) => runEnded(stack, name, runId, timeoutMs);

describe("parallel items from a variable, end to end on real runners", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (name, c) => {
    const dir = tempDir(name);
    const runId = await start(name, c.spec.replaceAll("$DIR", dir));
    const d = await finished(name, runId);
    const nodes = d.nodes.map((n: { step: { name: string }; statusLabel: string }) => [n.step.name, n.statusLabel]);
    expect({ status: d.statusLabel, nodes }).toEqual({ status: c.status, nodes: c.nodes });
    const log = (step: string, stream?: string) => stepLogText(stack, name, runId, step, stream);
    const node = (step: string) => d.nodes.find((n: { step: { name: string } }) => n.step.name === step);
    await c.check?.({ dir, log, node });
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
    expect(d.nodes.map((n: { step: { name: string }; statusLabel: string }) => [n.step.name, n.statusLabel])).toEqual([
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
