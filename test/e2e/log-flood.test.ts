// A step that writes much more, much faster than one batch at a time can carry, against a real
// `wrangler dev`: the runner holds the step back to what the server stores, and loses nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["flood-runner"] });
});

afterAll(async () => {
  await stack?.stop();
});

describe("a step that floods its log", () => {
  it("keeps every line while the server answers: the step is held back, nothing is dropped", async () => {
    // About 15 MB in well under a second: nearly twice the runner's 8 MiB buffer.
    const lines = 2_000_000;
    const runId = await startDagRun(stack, "flood", `steps:\n  - name: flood\n    command: seq 1 ${lines}\n`);
    const details = await runEnded(stack, "flood", runId, 240_000);
    expect(details.statusLabel).toBe("succeeded");
    const log = (q: string) => stack.api("GET", `/dag-runs/flood/${runId}/steps/flood/log?${q}`);
    const tail = await log("tail=1");
    expect(tail.body).toMatchObject({ content: `${lines}`, totalLines: lines, droppedBytes: 0 });
    expect((await log("head=2")).body.content).toBe("1\n2");
    expect((await log("stream=stderr")).body.content).toBe("");
  });
});
