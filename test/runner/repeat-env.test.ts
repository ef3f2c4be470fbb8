// The runner's part of repeatPolicy and of env values evaluated once per run: the repeat
// condition reads this execution's output, and evaluated env values go back with the result.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { StepRun } from "../../runner/src/exec.ts";
import type { Lease } from "../../src/shared/protocol";
import { FakeServer, makeLease } from "./fake-server";

let server: FakeServer;
let client: RunnerClient;
const backoff = { firstMs: 10, maxMs: 50 };

beforeAll(async () => {
  server = await new FakeServer().start();
  client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff });
});
afterAll(() => server.stop());

async function run(exec: Partial<Lease["exec"]>) {
  const lease = makeLease(exec);
  await new StepRun(lease, { client, log: () => {}, backoff }).execute();
  const done = server.completions.get(lease.leaseId);
  if (!done) throw new Error("no completion");
  return { done, stderr: server.logText(lease.leaseId, "stderr") };
}

describe("the repeat condition", () => {
  it("reads the step's own output as the execution that just finished left it", async () => {
    const { done } = await run({
      command: "echo new",
      output: "OUT",
      // What the server sends: the value of the execution before.
      env: { OUT: "old" },
      repeatCondition: { condition: "$OUT", expected: "new" },
    });
    expect(done.output).toBe("new");
    expect(done.repeatConditionMet).toBe(true);
  });
});
