// GET /metrics: Prometheus text format, with the series of the contract's example (dagu_*
// names, so existing dashboards work) from the D1 run index.
import { Hono } from "hono";
import { countDags, countRunsByStatus, db } from "../db/queries";
import type { Env } from "../env";
import { RUN_STATUSES } from "../status";
import { uptimeSec, VERSION } from "./system";

function series(name: string, help: string, type: "gauge" | "counter", samples: Array<[string, number]>): string {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...samples.map(([labels, v]) => `${name}${labels} ${v}`),
  ].join("\n");
}

export const metrics = new Hono<{ Bindings: Env }>().get("/", async (c) => {
  const d = db(c.env.DB);
  const [byStatus, dagCount] = await Promise.all([countRunsByStatus(d), countDags(d)]);
  const n = (status: string) => byStatus.find((r) => r.status === status)?.n ?? 0;
  const text = [
    series("dagu_info", "dagflare build information", "gauge", [[`{version="${VERSION}",engine="dagflare"}`, 1]]),
    series("dagu_uptime_seconds", "Time since this Worker isolate started", "gauge", [["", uptimeSec()]]),
    series("dagu_dag_runs_currently_running", "Number of currently running DAG runs", "gauge", [["", n("running")]]),
    series("dagu_dag_runs_queued_total", "Total number of DAG runs in queue", "gauge", [["", n("queued")]]),
    series(
      "dagu_dag_runs_total",
      "Total number of DAG runs by status",
      "counter",
      RUN_STATUSES.map((s) => [`{status="${s}"}`, n(s)]),
    ),
    series("dagu_dags_total", "Total number of DAGs", "gauge", [["", dagCount]]),
    // No scheduler runs yet: DAGs start only through the API (schedules come with their issue).
    series("dagu_scheduler_running", "Whether the scheduler is running", "gauge", [["", 0]]),
  ].join("\n\n");
  return c.text(`${text}\n`, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
