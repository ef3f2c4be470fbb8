// The DAG list: filters and page in the URL, paginated by the server, polled with backoff.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { type FormEvent, useCallback, useState } from "react";
import { api, seg } from "../api/client";
import type { DagFile, DagList } from "../api/types";
import { CronExpressions } from "../components/cron";
import { ErrorBox } from "../components/error-box";
import { type Column, ListTable } from "../components/list-table";
import { Modal } from "../components/modal";
import { Pager } from "../components/pager";
import { StartDialog } from "../components/start-dialog";
import { StatusBadge, StatusDot } from "../components/status-badge";
import { formatTime, fromNow } from "../lib/format";
import { backoff } from "../lib/poll";
import { RUN_STATUS_CODES, RUN_STATUS_LABELS, statusText } from "../lib/status";
import type { DagsSearch } from "../router";
import { FilterInput } from "./filter-input";
import "./lists.css";

const PER_PAGE_CHOICES = [25, 50, 100, 500, 1000] as const;

export function DagsPage() {
  const search = useSearch({ from: "/dags" });
  const navigate = useNavigate({ from: "/dags" });
  const setSearch = useCallback(
    (patch: Partial<DagsSearch>) =>
      navigate({ search: (s: DagsSearch) => ({ ...s, page: undefined, ...patch }), replace: true }),
    [navigate],
  );
  const perPage = search.perPage ?? 100;
  const list = useQuery({
    queryKey: ["dags", search],
    queryFn: () =>
      api.get<DagList>("/dags", {
        name: search.name,
        tag: search.tag,
        status: search.status,
        page: search.page,
        perPage,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: backoff(),
  });
  const tags = useQuery({ queryKey: ["dag-tags"], queryFn: () => api.get<{ tags: string[] }>("/dags/tags") });
  const onName = useCallback((name: string | undefined) => setSearch({ name }), [setSearch]);

  return (
    <>
      <div className="page-head">
        <h1>DAGs</h1>
        <div className="end">
          <NewDagButton />
        </div>
      </div>
      <search className="toolbar" aria-label="filter DAGs">
        <FilterInput label="Name" value={search.name} onChange={onName} />
        <label>
          Tag
          <select value={search.tag ?? ""} onChange={(e) => setSearch({ tag: e.target.value || undefined })}>
            <option value="">any</option>
            {(tags.data?.tags ?? []).map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Latest status
          <select
            value={search.status ?? ""}
            onChange={(e) => setSearch({ status: e.target.value === "" ? undefined : Number(e.target.value) })}
          >
            <option value="">any</option>
            {RUN_STATUS_LABELS.map((s) => (
              <option key={s} value={RUN_STATUS_CODES[s]}>
                {statusText(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Per page
          <select value={perPage} onChange={(e) => setSearch({ perPage: Number(e.target.value) })}>
            {PER_PAGE_CHOICES.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
      </search>
      <ErrorBox error={list.error ?? tags.error} />
      {list.data && (
        <>
          <ListTable
            label="DAGs"
            columns={COLUMNS}
            rows={list.data.dags}
            rowKey={(d) => d.fileName}
            rowLink={(d) => ({ to: "/dags/$name", params: { name: d.fileName } })}
            empty={
              search.name || search.tag || search.status !== undefined || (search.page ?? 1) > 1 ? (
                "No DAG matches."
              ) : (
                <>
                  No DAGs yet. Create one with <strong>New DAG</strong>, or push YAML files with{" "}
                  <code>dagflare push dags/</code>.
                </>
              )
            }
          />
          <Pager
            pagination={list.data.pagination}
            onPage={(page) => navigate({ search: (s: DagsSearch) => ({ ...s, page }) })}
          />
        </>
      )}
      {list.isPending && <p className="muted">Loading…</p>}
    </>
  );
}

// On a phone a DAG's card is titled by its name, its latest run's status beside it.
const COLUMNS: Array<Column<DagFile>> = [
  {
    head: "Name",
    card: "title",
    className: "name",
    cell: (d) => (
      <>
        <Link to="/dags/$name" params={{ name: d.fileName }}>
          {d.dag.name}
        </Link>
        {d.dag.description && <span className="cell-sub">{d.dag.description}</span>}
        {d.errors.length > 0 && <span className="cell-sub error-text">{d.errors.length} error(s)</span>}
      </>
    ),
  },
  {
    head: "Tags",
    className: "name",
    cell: (d) =>
      (d.dag.group || d.dag.tags.length > 0) && (
        <>
          {d.dag.group && <span className="cell-sub">{d.dag.group}</span>}
          {d.dag.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </>
      ),
  },
  {
    head: "Schedule",
    cell: (d) =>
      d.dag.schedule.length > 0 && (
        <>
          <CronExpressions expressions={d.dag.schedule.map((s) => s.expression)} className="cell-sub" />
          {d.nextRun && !d.suspended && <span title={formatTime(d.nextRun)}>next {fromNow(d.nextRun)}</span>}
        </>
      ),
  },
  { head: "Latest run", card: "badge", cell: (d) => <LatestRun dag={d} /> },
  {
    head: "Recent runs",
    cell: (d) =>
      d.recentRuns &&
      d.recentRuns.length > 0 && (
        <span className="strip">
          {[...d.recentRuns].reverse().map((r) => (
            <Link key={r.dagRunId} to="/dags/$name/runs/$runId" params={{ name: d.dag.name, runId: r.dagRunId }}>
              <StatusDot status={r.statusLabel} title={`${statusText(r.statusLabel)}, ${formatTime(r.startedAt)}`} />
            </Link>
          ))}
        </span>
      ),
  },
  {
    head: "Schedule state",
    cell: (d) => (d.suspended ? <span className="tag">suspended</span> : <span className="muted">active</span>),
  },
  {
    head: "Actions",
    card: "actions",
    cell: (d) => (
      <>
        <SuspendButton dag={d} />
        <StartDialog dag={d.dag} fileName={d.fileName} />
      </>
    ),
  },
];

/** The latest run's status and when it started, or, while it waits in a queue, when it was queued. */
function LatestRun({ dag: d }: { dag: DagFile }) {
  const latest = d.latestDAGRun;
  const at = latest?.startedAt || latest?.queuedAt;
  if (!latest || latest.dagRunId === "" || !at) return <span className="muted">never run</span>;
  return (
    <>
      <StatusBadge status={latest.statusLabel} />
      <span className="cell-sub" title={formatTime(at)}>
        {latest.startedAt ? fromNow(at) : `queued ${fromNow(at)}`}
      </span>
    </>
  );
}

function SuspendButton({ dag }: { dag: DagFile }) {
  const qc = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => api.post(`/dags/${seg(dag.fileName)}/suspend`, { suspend: !dag.suspended }),
    onSettled: () => qc.invalidateQueries({ queryKey: ["dags"] }),
  });
  const verb = dag.suspended ? "Resume" : "Suspend";
  return (
    <>
      <button
        type="button"
        aria-label={`${verb} ${dag.dag.name}`}
        disabled={toggle.isPending}
        onClick={() => toggle.mutate()}
      >
        {verb}
      </button>
      {toggle.error && <ErrorBox error={toggle.error} />}
    </>
  );
}

function NewDagButton() {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (n: string) => api.post<{ name: string }>("/dags", { name: n }),
    onSuccess: ({ name: created }) =>
      navigate({ to: "/dags/$name", params: { name: created }, search: { tab: "spec" } }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(name.trim());
  };
  return (
    <>
      <button
        type="button"
        className="primary"
        onClick={() => {
          create.reset();
          setName("");
          setOpen(true);
        }}
      >
        New DAG
      </button>
      {open && (
        <Modal title="New DAG" onClose={() => setOpen(false)}>
          <form onSubmit={submit}>
            <label>
              DAG name
              <input value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9_\-]+" required />
            </label>
            <span className="muted small">Letters, digits, - and _. The spec opens next, to edit.</span>
            <ErrorBox error={create.error} />
            <div className="row" style={{ justifyContent: "flex-end" }}>
              <button type="button" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={create.isPending || !name.trim()}>
                Create
              </button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}
