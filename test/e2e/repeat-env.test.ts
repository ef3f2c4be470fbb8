// repeatPolicy and env values with backticks, end to end on real runner processes: a repeat
// condition reads the output of the execution that just finished, `repeat: until` with exit
// codes goes on after failures, and backtick env values are evaluated once per run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, tempDir } from "./harness";

let stack: Stack;

beforeAll(async () => {
  // Two slots each: three steps running at once take both runners.
  stack = await startStack({ runners: ["env-a", "env-b"], leaseTtlMs: 3_000 });
});

afterAll(async () => {
  await stack?.stop();
});

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), "utf8");
const nodeOf = (d: any, name: string) => d.nodes.find((n: { step: { name: string } }) => n.step.name === name);

describe("repeatPolicy, end to end on real runners", () => {
  it("a repeat condition on the step's own output sees the value of the execution that just finished", async () => {
    const dir = tempDir("repeat-output");
    const spec = `steps:
  - name: count
    command: n=$(cat ${dir}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/n; echo $n
    output: N
    repeatPolicy:
      repeat: until
      condition: "$N"
      expected: "3"
      limit: 10
`;
    const runId = await startDagRun(stack, "repeat-output", spec);
    const d = await runEnded(stack, "repeat-output", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(read(dir, "n")).toBe("3\n");
    expect(nodeOf(d, "count").doneCount).toBe(3);
  });

  it("repeat: until with exitCode goes on after failing executions until one exits as listed", async () => {
    const dir = tempDir("repeat-until");
    const spec = `steps:
  - name: wait-ready
    command: n=$(cat ${dir}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/n; [ $n -ge 3 ] || exit 1
    repeatPolicy:
      repeat: until
      exitCode: [0]
      limit: 10
  - name: after
    command: echo after
`;
    const runId = await startDagRun(stack, "repeat-until", spec);
    const d = await runEnded(stack, "repeat-until", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(read(dir, "n")).toBe("3\n");
    expect(nodeOf(d, "after").statusLabel).toBe("succeeded");
  });
});

describe("env values with backticks, end to end on real runners", () => {
  it("are evaluated once per run: every step, on either runner, and every retry sees the same value", async () => {
    const dir = tempDir("env-once");
    // The three first steps wait for each other, so they run at once, on both runners.
    const meet = `touch ${dir}/$DAG_RUN_STEP_NAME; for i in $(seq 300); do [ -e ${dir}/a ] && [ -e ${dir}/b ] && [ -e ${dir}/c ] && break; sleep 0.1; done`;
    const spec = `type: graph
env:
  - STAMP: "\`date +%s%N\`"
  - DIR: ${dir}/\${STAMP}
steps:
  - name: a
    command: ${meet}; echo "$STAMP $DIR" > ${dir}/a.seen
  - name: b
    command: ${meet}; echo "$STAMP $DIR" > ${dir}/b.seen
  - name: c
    command: ${meet}; echo "$STAMP $DIR" > ${dir}/c.seen
  - name: flaky
    depends: [a, b, c]
    env:
      - TAG: "\`date +%s%N\`"
    command: echo "$STAMP $TAG" >> ${dir}/flaky.seen; [ -e ${dir}/again ] || { touch ${dir}/again; exit 1; }
    retryPolicy: { limit: 1, intervalSec: 1 }
`;
    const runId = await startDagRun(stack, "env-once", spec);
    const d = await runEnded(stack, "env-once", runId);
    expect(d.statusLabel).toBe("succeeded");
    const seen = ["a", "b", "c"].map((s) => read(dir, `${s}.seen`));
    const [stamp] = (seen[0] as string).split(" ");
    expect(stamp).toMatch(/^\d+$/);
    expect(seen).toEqual(Array(3).fill(`${stamp} ${dir}/${stamp}\n`));
    const attempts = read(dir, "flaky.seen").trim().split("\n");
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.startsWith(`${stamp} `)).toBe(true);
    expect(attempts[1]).toBe(attempts[0]);
  });

  it("a failing backtick command fails the run, saying what the command wrote on stderr", async () => {
    const dir = tempDir("env-fails");
    const spec = `env:
  - TOOL: "\`echo tool-x is not installed >&2; exit 4\`"
steps:
  - name: a
    command: touch ${dir}/ran
`;
    const runId = await startDagRun(stack, "env-fails", spec);
    const d = await runEnded(stack, "env-fails", runId);
    expect(d.statusLabel).toBe("failed");
    const a = nodeOf(d, "a");
    expect(a.statusLabel).toBe("aborted");
    expect(a.error).toContain("env TOOL: command substitution failed");
    expect(a.error).toContain("exited with 4: tool-x is not installed");
  });
});
