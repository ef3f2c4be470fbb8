// The system: the schedules' next firings, the scheduler and dispatcher, and the main metrics.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api } from "../api/client";
import type { DagFile, DagList } from "../api/types";
import { CronExpressions } from "../components/cron";
import { ErrorBox } from "../components/error-box";
import { type Column, ListTable } from "../components/list-table";
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

const FIRINGS: Array<Column<DagFile>> = [
  {
    head: "DAG",
    card: "title",
    className: "name",
    cell: (d) => (
      <Link to="/dags/$name" params={{ name: d.fileName }}>
        {d.dag.name}
      </Link>
    ),
  },
  { head: "Schedule", cell: (d) => <CronExpressions expressions={d.dag.schedule.map((s) => s.expression)} /> },
  {
    head: "Next run",
    cell: (d) => (
      <>
        {formatTime(d.nextRun)} <span className="muted">({fromNow(d.nextRun)})</span>
      </>
    ),
  },
];

/** A service with the part of dagflare that plays it. */
interface ServiceRow {
  name: "Scheduler" | "Dispatcher";
  service: Service;
}

const SERVICES: Array<Column<ServiceRow>> = [
  { head: "Service", card: "title", cell: (r) => r.name },
  { head: "What plays it", cell: ({ service: s }) => s.description ?? s.kind ?? s.instanceId },
  { head: "Status", card: "badge", cell: (r) => r.service.status },
  {
    head: "Since",
    cell: ({ service: s }) => <span title={formatTime(s.startedAt)}>{fromNow(s.startedAt)}</span>,
  },
  {
    head: "Details",
    cell: ({ name, service: s }) =>
      name === "Dispatcher" ? (
        <Link to="/runners">the runner fleet</Link>
      ) : (
        <>
          {s.scheduledDags ?? 0} scheduled, {s.suspendedDags ?? 0} suspended
          {s.nextRun && <span className="cell-sub">next firing {formatTime(s.nextRun)}</span>}
        </>
      ),
  },
];

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
  const services: ServiceRow[] = [
    ...(scheduler.data?.schedulers ?? []).map((service) => ({ name: "Scheduler" as const, service })),
    ...(coordinator.data?.coordinators ?? []).map((service) => ({ name: "Dispatcher" as const, service })),
  ];
  return (
    <>
      <div className="page-head">
        <h1>System</h1>
      </div>
      <ErrorBox error={metrics.error ?? scheduler.error ?? coordinator.error ?? next.error} />
      {metrics.data && <Metrics samples={metrics.data} />}

      <h2>Next schedule firings</h2>
      {next.data && (
        <ListTable
          label="next schedule firings"
          columns={FIRINGS}
          rows={firings}
          rowKey={(d) => d.fileName}
          empty="No DAG has an active schedule."
        />
      )}

      <h2>Services</h2>
      <ListTable
        label="services"
        columns={SERVICES}
        rows={services}
        rowKey={(r) => `${r.name}/${r.service.instanceId}`}
        empty={null}
      />
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
    <ListTable
      label={props.title}
      caption={props.title}
      noHead
      layout="table"
      className="by-status"
      columns={[
        { head: "Status", cell: ([s]) => <StatusBadge status={s} /> },
        { head: "Count", className: "count", cell: ([, n]) => (n ?? 0).toLocaleString() },
      ]}
      rows={props.rows}
      rowKey={([s]) => s}
      empty={null}
    />
  );
}
