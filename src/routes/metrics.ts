// GET /metrics: Prometheus text format, with the series of the contract's example (dagu_*
// names, so existing dashboards work) from the D1 run index.
import { Hono } from "hono";
import { callCounts, countingOn, uncountedEnv } from "../call-counts";
import { countDags, countRunsByStatus, db, scheduleTotals, stepDurationBuckets, stepTotals } from "../db/queries";
import type { Env } from "../env";
import { dagu } from "../openapi/route-docs";
import { RUN_STATUSES, STEP_STATUSES } from "../status";

/** Upper bounds of the step duration histogram, in seconds. */
const STEP_BUCKETS_SEC = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

import { uptimeSec, VERSION } from "./system";

function series(name: string, help: string, type: "gauge" | "counter", samples: Array<[string, number]>): string {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...samples.map(([labels, v]) => `${name}${labels} ${v}`),
  ].join("\n");
}

export const metrics = new Hono<{ Bindings: Env }>().get("/", dagu("getMetrics"), async (c) => {
  const calls = callCounts();
  // Its own queries are not counted: reading the counts does not move them.
  const d = db(uncountedEnv(c.env).DB);
  const [byStatus, dagCount, steps, buckets, schedules] = await Promise.all([
    countRunsByStatus(d),
    countDags(d),
    stepTotals(d),
    stepDurationBuckets(
      d,
      STEP_BUCKETS_SEC.map((s) => s * 1000),
    ),
    scheduleTotals(d),
  ]);
  const stepsOf = (status: string) => steps.find((r) => r.status === status);
  const timed = steps.reduce((n, r) => n + r.timed, 0);
  const n = (status: string) => byStatus.find((r) => r.status === status)?.n ?? 0;
  const text = [
    series("dagu_info", "dagflare build information", "gauge", [[`{version="${VERSION}",engine="dagflare"}`, 1]]),
    series("dagu_uptime_seconds", "Time since this Worker isolate started", "gauge", [["", uptimeSec()]]),
    // A run waiting for approval is active (it holds its place in maxActiveRuns), so it counts.
    series("dagu_dag_runs_currently_running", "Number of currently running DAG runs", "gauge", [
      ["", n("running") + n("waiting")],
    ]),
    series("dagu_dag_runs_queued_total", "Total number of DAG runs in queue", "gauge", [["", n("queued")]]),
    series(
      "dagu_dag_runs_total",
      "Total number of DAG runs by status",
      "counter",
      RUN_STATUSES.map((s) => [`{status="${s}"}`, n(s)]),
    ),
    series("dagu_dags_total", "Total number of DAGs", "gauge", [["", dagCount]]),
    // The scheduler is each scheduled DAG's Durable Object alarm: it runs whenever the Worker is deployed.
    series("dagu_scheduler_running", "Whether the scheduler is running", "gauge", [["", 1]]),
    series("dagflare_scheduled_dags", "DAGs whose schedule is armed (not suspended)", "gauge", [["", schedules.armed]]),
    series("dagflare_suspended_dags", "DAGs suspended with POST /dags/{fileName}/suspend", "gauge", [
      ["", schedules.suspended],
    ]),
    series(
      "dagflare_step_runs_total",
      "Steps of finished DAG runs by final status",
      "counter",
      STEP_STATUSES.map((s) => [`{status="${s}"}`, stepsOf(s)?.n ?? 0]),
    ),
    [
      "# HELP dagflare_step_duration_seconds Time from a step's start to its end, steps of finished runs that ran",
      "# TYPE dagflare_step_duration_seconds histogram",
      ...STEP_BUCKETS_SEC.map((b, i) => `dagflare_step_duration_seconds_bucket{le="${b}"} ${buckets[i] ?? 0}`),
      `dagflare_step_duration_seconds_bucket{le="+Inf"} ${timed}`,
      `dagflare_step_duration_seconds_sum ${steps.reduce((n, r) => n + r.ms, 0) / 1000}`,
      `dagflare_step_duration_seconds_count ${timed}`,
    ].join("\n"),
    // Only when the operator turned counting on (DAGFLARE_CALL_COUNTS=on): for capacity measurement.
    ...(countingOn(c.env)
      ? [
          series(
            "dagflare_calls_total",
            "Durable Object calls and D1 queries made by this isolate, by binding and method",
            "counter",
            calls.map(([call, n]) => [`{call="${call}"}`, n]),
          ),
        ]
      : []),
  ].join("\n\n");
  return c.text(`${text}\n`, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
