// Which runner ran a step: kept on the step once its lease ended, so a finished step still says
// which host has its logs and files.
import { describe, expect, it } from "vitest";
import { CONFIRM_WITHIN_MS, timerKey } from "../../../src/run/engine";
import { dag, exit, Harness, ok, step, TTL } from "./harness";

const runnerOf = (h: Harness, name: string) => h.state.steps[name]?.runnerId;

describe("the runner a step keeps", () => {
  it("keeps the runner that reported a result once the step finished", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const token = h.claim("a", "runner-a");
    h.fire({ type: "complete", step: "a", token, result: exit(3) });
    expect(h.status("a")).toBe("failed");
    expect(h.lease("a")).toBeUndefined();
    expect(runnerOf(h, "a")).toBe("runner-a");
  });

  it("keeps the runner whose lease expired after it confirmed, while the step waits for another", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const token = h.claim("a", "runner-lost");
    h.fire({ type: "heartbeat", step: "a", token });
    h.now += TTL;
    h.fire({ type: "timer", key: timerKey.lease("a") });
    expect(h.queued("a")).toBe(true);
    expect(runnerOf(h, "a")).toBe("runner-lost");
  });

  it("keeps the runner of the last attempt when a later lease is taken back unconfirmed", () => {
    const h = new Harness(dag(step("a", { retryPolicy: { limit: 1, intervalSec: 0 } })));
    h.fire({ type: "start" });
    const first = h.claim("a", "runner-a");
    h.fire({ type: "complete", step: "a", token: first, result: exit(1) });
    h.fire({ type: "timer", key: timerKey.retry("a") });
    h.claim("a", "runner-gone");
    h.now += CONFIRM_WITHIN_MS;
    h.fire({ type: "timer", key: timerKey.lease("a") });
    expect(h.state.steps.a).toMatchObject({ attempt: 1, runnerId: "runner-a" });
  });

  it("keeps no runner for a lease released before its runner started the step", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const token = h.claim("a", "runner-draining");
    h.fire({ type: "release", step: "a", token, reason: "runner draining" });
    expect(runnerOf(h, "a")).toBeUndefined();
  });

  it("keeps the runner that released a lease after starting the step", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    const token = h.claim("a", "runner-stopped");
    h.fire({ type: "heartbeat", step: "a", token });
    h.fire({ type: "release", step: "a", token, reason: "runner stopped" });
    expect(runnerOf(h, "a")).toBe("runner-stopped");
  });

  it("shows no runner on a step a retry of the run reset, until a runner runs it again", () => {
    const h = new Harness(dag(step("a")));
    h.fire({ type: "start" });
    h.run("a", exit(1));
    h.fire({ type: "retry", steps: ["a"] });
    expect(runnerOf(h, "a")).toBeUndefined();
    const token = h.claim("a", "runner-b");
    h.fire({ type: "complete", step: "a", token, result: ok });
    expect(runnerOf(h, "a")).toBe("runner-b");
  });
});
