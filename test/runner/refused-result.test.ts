// A result the server refuses as it is (413, 400) ends the step as failed, saying why, instead
// of leaving it running until its lease expires and it runs again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { StepRun } from "../../runner/src/exec.ts";
import { FakeServer, makeLease } from "./fake-server";

let server: FakeServer;
let client: RunnerClient;
const backoff = { firstMs: 10, maxMs: 50 };

beforeAll(async () => {
  server = await new FakeServer().start();
  client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff });
});
afterAll(() => server.stop());

describe("a result the server refuses", () => {
  it("is reported again as a failure that names the refusal, without the refused output", async () => {
    const lease = makeLease({ command: "echo big", output: "OUT" });
    server.failNext = { status: 413, count: 1, suffix: "/complete" };
    await new StepRun(lease, { client, log: () => {}, backoff }).execute();
    const done = server.completions.get(lease.leaseId);
    expect(done).toMatchObject({ exitCode: null, error: expect.stringMatching(/refused this step's result: .*413/) });
    expect(done?.output).toBeUndefined();
  });
});
