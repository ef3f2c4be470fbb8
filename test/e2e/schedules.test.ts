// A schedule on a real `wrangler dev`: the DAG's alarm, armed before a restart of the server,
// fires after it, on its minute, and a real runner runs the step.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack, waitFor } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["runner-s"] });
});

afterAll(async () => {
  await stack?.stop();
});

const MINUTE = 60_000;

describe("a scheduled DAG", () => {
  it("fires on its minute across a restart of the server, and a runner runs it", async () => {
    // Leave room for the restart before the tick.
    if (MINUTE - (Date.now() % MINUTE) < 25_000) {
      await new Promise((r) => setTimeout(r, MINUTE - (Date.now() % MINUTE) + 1_000));
    }
    const tick = (Math.floor(Date.now() / MINUTE) + 1) * MINUTE;
    const spec = 'schedule: "* * * * *"\nsteps:\n  - name: tick\n    command: echo tick\n';
    expect((await stack.api("POST", "/dags", { name: "minutely", spec })).status).toBe(201);
    expect((await stack.api("GET", "/dags/minutely")).body.nextRun).toBe(new Date(tick).toISOString());

    await stack.restartWorker();
    const restartedBeforeTick = Date.now() < tick;

    const run = await waitFor(
      "the scheduled run to succeed",
      async () => {
        const runs = (await stack.api("GET", "/dag-runs/minutely")).body.dagRuns;
        const last = runs[runs.length - 1];
        return last?.statusLabel === "succeeded" ? last : undefined;
      },
      tick - Date.now() + 30_000,
    );
    // To the second: the run is created within a second or two of its tick (the alarm's own
    // latency and a slow, shared machine), not at some later scan.
    if (restartedBeforeTick) {
      expect(Date.parse(run.queuedAt)).toBeGreaterThanOrEqual(tick);
      expect(Date.parse(run.queuedAt) - tick).toBeLessThan(2_500);
    }
    const log = await stack.api("GET", `/dag-runs/minutely/${run.dagRunId}/steps/tick/log`);
    expect(log.body.content).toBe("tick");
    expect((await stack.api("GET", "/dags/minutely")).body.nextRun).toBe(new Date(tick + MINUTE).toISOString());
    await stack.api("POST", "/dags/minutely/suspend", { suspend: true });
  });
});
