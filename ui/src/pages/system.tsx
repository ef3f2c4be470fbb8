// The system: the schedules' next firings, the scheduler and dispatcher, and the main metrics.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api } from "../api/client";
import type { DagList } from "../api/types";
import { ErrorBox } from "../components/error-box";
import { StatusBadge } from "../components/status-badge";
import { formatDuration, formatTime, fromNow } from "../lib/format";
import { metricValue, parseMetrics, type Sample, samplesOf } from "../lib/metrics";
import { backoff } from "../lib/poll";
import { RUN_STATUS_LABELS, STEP_STATUS_LABELS } from "../lib/status";
import "./lists.css";

interface Service {
  instanceId: string;
  host: string;
  status: string;
  startedAt: string;
  kind?: string;
  description?: string;
  nextRun?: string;
  scheduledDags?: number;
  suspendedDags?: number;
}

const NEXT_FIRINGS = 10;

export function SystemPage() {
  const metrics = useQuery({
    queryKey: ["metrics"],
    queryFn: async () => parseMetrics(await api.text("/metrics")),
    refetchInterval: backoff(5_000, 60_000),
  });
  const scheduler = useQuery({
    queryKey: ["services", "scheduler"],
    queryFn: () => api.get<{ schedulers: Service[] }>("/services/scheduler"),
  });
  const coordinator = useQuery({
    queryKey: ["services", "coordinator"],
    queryFn: () => api.get<{ coordinators: Service[] }>("/services/coordinator"),
  });
  // The DAGs whose schedules fire soonest: one call, sorted by the server.
  const next = useQuery({
    queryKey: ["dags", "next-firings"],
    queryFn: () => api.get<DagList>("/dags", { sort: "nextRun", order: "asc", perPage: NEXT_FIRINGS }),
    refetchInterval: backoff(15_000, 60_000),
  });
  const firings = (next.data?.dags ?? []).filter((d) => d.nextRun && !d.suspended);
  return (
    <>
      <div className="page-head">
        <h1>System</h1>
      </div>
      <ErrorBox error={metrics.error ?? scheduler.error ?? coordinator.error ?? next.error} />
      {metrics.data && <Metrics samples={metrics.data} />}

      <h2>Next schedule firings</h2>
      {next.data && firings.length === 0 && <p className="muted">No DAG has an active schedule.</p>}
      {firings.length > 0 && (
        <div className="table-scroll">
          <table className="list" aria-label="next schedule firings">
            <thead>
              <tr>
                <th>DAG</th>
                <th>Schedule</th>
                <th>Next run</th>
              </tr>
            </thead>
            <tbody>
              {firings.map((d) => (
                <tr key={d.fileName}>
                  <td>
                    <Link to="/dags/$name" params={{ name: d.fileName }}>
                      {d.dag.name}
                    </Link>
                  </td>
                  <td className="mono">{d.dag.schedule.map((s) => s.expression).join(", ")}</td>
                  <td>
                    {formatTime(d.nextRun)} <span className="muted">({fromNow(d.nextRun)})</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Services</h2>
      <div className="table-scroll">
        <table className="list" aria-label="services">
          <thead>
            <tr>
              <th>Service</th>
              <th>What plays it</th>
              <th>Status</th>
              <th>Since</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {scheduler.data?.schedulers.map((s) => (
              <tr key={`scheduler-${s.instanceId}`}>
                <td>Scheduler</td>
                <td>{s.description ?? s.kind ?? s.instanceId}</td>
                <td>{s.status}</td>
                <td title={formatTime(s.startedAt)}>{fromNow(s.startedAt)}</td>
                <td>
                  {s.scheduledDags ?? 0} scheduled, {s.suspendedDags ?? 0} suspended
                  {s.nextRun && <span className="cell-sub">next firing {formatTime(s.nextRun)}</span>}
                </td>
              </tr>
            ))}
            {coordinator.data?.coordinators.map((s) => (
              <tr key={`coordinator-${s.instanceId}`}>
                <td>Dispatcher</td>
                <td>{s.description ?? s.kind ?? s.instanceId}</td>
                <td>{s.status}</td>
                <td title={formatTime(s.startedAt)}>{fromNow(s.startedAt)}</td>
                <td>
                  <Link to="/runners">the runner fleet</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Metrics({ samples }: { samples: Sample[] }) {
  const uptime = metricValue(samples, "dagu_uptime_seconds");
  const fmt = (n: number | undefined) => (n === undefined ? "-" : n.toLocaleString());
  return (
    <section aria-label="metrics">
      <dl className="stats">
        <Stat label="DAGs" value={fmt(metricValue(samples, "dagu_dags_total"))} />
        <Stat label="Running runs" value={fmt(metricValue(samples, "dagu_dag_runs_currently_running"))} />
        <Stat label="Queued runs" value={fmt(metricValue(samples, "dagu_dag_runs_queued_total"))} />
        <Stat label="Runs in history" value={fmt(metricValue(samples, "dagu_dag_runs_total"))} />
        <Stat label="Uptime" value={uptime === undefined ? "-" : formatDuration(uptime * 1000)} />
      </dl>
      <div className="row" style={{ alignItems: "flex-start", gap: "1.5rem", flexWrap: "wrap" }}>
        <ByStatus
          title="Runs by status"
          rows={RUN_STATUS_LABELS.map((s) => [s, metricValue(samples, "dagu_dag_runs_total", { status: s })])}
        />
        <ByStatus
          title="Steps of finished runs by status"
          rows={STEP_STATUS_LABELS.map((s) => [s, metricValue(samples, "dagflare_step_runs_total", { status: s })])}
        />
        {samplesOf(samples, "dagflare_step_duration_seconds_count").length > 0 && (
          <p className="muted">
            Mean step duration:{" "}
            {formatDuration(
              ((metricValue(samples, "dagflare_step_duration_seconds_sum") ?? 0) /
                Math.max(1, metricValue(samples, "dagflare_step_duration_seconds_count") ?? 0)) *
                1000,
            )}
          </p>
        )}
      </div>
    </section>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function ByStatus<S extends (typeof STEP_STATUS_LABELS)[number] | (typeof RUN_STATUS_LABELS)[number]>(props: {
  title: string;
  rows: Array<[S, number | undefined]>;
}) {
  return (
    <div className="table-scroll">
      <table className="list" aria-label={props.title} style={{ width: "auto" }}>
        <caption className="muted small" style={{ textAlign: "left" }}>
          {props.title}
        </caption>
        <tbody>
          {props.rows.map(([s, n]) => (
            <tr key={s}>
              <td>
                <StatusBadge status={s} />
              </td>
              <td style={{ textAlign: "right" }}>{(n ?? 0).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
