// The runner fleet as GET /workers shows it: each runner reports itself every few seconds;
// health follows the age of its last report.
import { RUNNER_HEARTBEAT_INTERVAL_MS, type RunnerHeartbeatRequest } from "../shared/protocol";

/** Missing one report is a warning; missing several makes a runner unhealthy. */
export const WARNING_AFTER_MS = RUNNER_HEARTBEAT_INTERVAL_MS * 3;
export const UNHEALTHY_AFTER_MS = RUNNER_HEARTBEAT_INTERVAL_MS * 12;
/** Runners silent this long are dropped from the list. */
export const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

export type RunnerReport = Required<Omit<RunnerHeartbeatRequest, "labels" | "running">> & {
  labels: Record<string, string>;
  running: NonNullable<RunnerHeartbeatRequest["running"]>;
  lastSeenAt: number;
};

export function healthOf(lastSeenAt: number, now: number): "healthy" | "warning" | "unhealthy" {
  const age = now - lastSeenAt;
  if (age < WARNING_AFTER_MS) return "healthy";
  if (age < UNHEALTHY_AFTER_MS) return "warning";
  return "unhealthy";
}

/** The contract's Worker shape. */
export function presentRunner(r: RunnerReport, now: number) {
  return {
    id: r.runnerId,
    labels: r.labels,
    totalPollers: r.totalSlots,
    busyPollers: r.running.length,
    runningTasks: r.running.map((t) => ({
      dagRunId: t.runId,
      dagName: t.dagName,
      startedAt: new Date(t.startedAt).toISOString(),
      rootDagRunName: t.dagName,
      rootDagRunId: t.runId,
      // dagflare places steps, not whole runs, on runners: say which step.
      stepName: t.stepName,
    })),
    lastHeartbeatAt: new Date(r.lastSeenAt).toISOString(),
    healthStatus: healthOf(r.lastSeenAt, now),
  };
}
