// A step that prints more than a process's environment can carry, captured as an output: the
// output is cut to its limit, so the steps after it still start (they got E2BIG before).
import { afterAll, beforeAll, expect, it } from "vitest";
import { MAX_OUTPUT_BYTES } from "../../src/limits";
import { runEnded, type Stack, startDagRun, startStack, stepLogText } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["runner-out"] });
});

afterAll(async () => {
  await stack?.stop();
});

it("cuts an output of 200 KB to its limit, and the next step runs with it in its environment", async () => {
  const spec = `steps:
  - name: loud
    command: yes x | tr -d '\\n' | head -c 200000
    output: BIG
  - name: after
    command: printf '%s' "$BIG" | wc -c
`;
  const runId = await startDagRun(stack, "loud-output", spec);
  const run = await runEnded(stack, "loud-output", runId, 60_000);
  expect(run.statusLabel, JSON.stringify(run.nodes.map((n: { error?: string }) => n.error))).toBe("succeeded");
  expect((await stepLogText(stack, "loud-output", runId, "after")).trim()).toBe(String(MAX_OUTPUT_BYTES));
});
