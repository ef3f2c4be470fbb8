import { describe, expect, it, vi } from "vitest";
import { UNHEALTHY_AFTER_MS, WARNING_AFTER_MS } from "../../src/dispatch/fleet";
import { api, runnerApi } from "./helpers";

describe("GET /workers", () => {
  it("shows each runner with its labels, slots, running steps and health", async () => {
    const report = {
      runnerId: "host-a",
      labels: { os: "linux", pool: "etl" },
      totalSlots: 4,
      running: [{ runId: "r1", dagName: "etl", stepName: "load", startedAt: Date.now() - 1000 }],
    };
    expect((await runnerApi("/heartbeat", report)).status).toBe(200);
    const r = await api("GET", "/workers");
    expect(r.status).toBe(200);
    const w = r.body.workers.find((x: { id: string }) => x.id === "host-a");
    expect(w).toMatchObject({
      labels: { os: "linux", pool: "etl" },
      totalPollers: 4,
      busyPollers: 1,
      healthStatus: "healthy",
      runningTasks: [{ dagRunId: "r1", dagName: "etl", stepName: "load" }],
    });
  });

  it("marks a runner that stopped reporting as warning, then unhealthy", async () => {
    await runnerApi("/heartbeat", { runnerId: "host-quiet", totalSlots: 1 });
    const at = Date.now();
    const status = async () =>
      (await api("GET", "/workers")).body.workers.find((x: { id: string }) => x.id === "host-quiet").healthStatus;
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(at + WARNING_AFTER_MS + 1);
      expect(await status()).toBe("warning");
      vi.setSystemTime(at + UNHEALTHY_AFTER_MS + 1);
      expect(await status()).toBe("unhealthy");
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses a runner report without a runner id", async () => {
    const r = await runnerApi("/heartbeat", { totalSlots: 1 });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/runnerId/);
  });
});
