// Each queue with its running and waiting runs; dequeue, purge and the concurrency limit.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, seg } from "../api/client";
import type { Queue, QueuesResponse, RunSummary } from "../api/types";
import { ConfirmButton } from "../components/confirm-button";
import { ErrorBox } from "../components/error-box";
import { type Column, ListTable } from "../components/list-table";
import { Modal } from "../components/modal";
import { dagColumn, runIdColumn, runLink, statusColumn } from "../components/run-cells";
import { durationOf, formatDuration, formatTime, fromNow } from "../lib/format";
import { backoff } from "../lib/poll";
import "./lists.css";

export function QueuesPage() {
  const queues = useQuery({
    queryKey: ["queues"],
    queryFn: () => api.get<QueuesResponse>("/queues"),
    refetchInterval: backoff(2_000, 30_000),
  });
  const s = queues.data?.summary;
  return (
    <>
      <div className="page-head">
        <h1>Queues</h1>
      </div>
      <ErrorBox error={queues.error} />
      {s && (
        <dl className="stats">
          <Stat label="Queues" value={s.totalQueues} />
          <Stat label="Running" value={s.totalRunning} />
          <Stat label="Waiting" value={s.totalQueued} />
          <Stat label="Capacity in use" value={`${Math.round(s.utilizationPercentage)}%`} />
        </dl>
      )}
      {queues.data?.queues.length === 0 && <p className="muted">No queue has running or waiting runs.</p>}
      {queues.data?.queues.map((q) => (
        <QueueCard key={q.name} queue={q} />
      ))}
      {queues.isPending && <p className="muted">Loading…</p>}
    </>
  );
}

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function QueueCard({ queue: q }: { queue: Queue }) {
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries({ queryKey: ["queues"] });
  return (
    <section className="card queue" aria-label={`queue ${q.name}`}>
      <header>
        <h2>{q.name}</h2>
        <span className="tag">{q.type === "global" ? "queue" : "DAG's own (maxActiveRuns)"}</span>
        <span className="muted">
          {q.running.length} running / {q.maxConcurrency ?? "no limit"} max · {q.queued.length} waiting
        </span>
        <span className="spacer" />
        {q.type === "global" && <ConcurrencyButton queue={q} onDone={refresh} />}
        <ConfirmButton
          danger
          label={`Purge ${q.name}`}
          title={`Purge queue ${q.name}`}
          question={`Take all ${q.queued.length} waiting runs of ${q.name} out of line? They end aborted.`}
          confirm="Purge"
          disabled={q.queued.length === 0}
          action={() => api.post(`/queues/${seg(q.name)}/purge`)}
          onDone={refresh}
        >
          Purge
        </ConfirmButton>
      </header>
      <RunTable caption="Running" runs={q.running} />
      <RunTable caption="Waiting" runs={q.queued} waiting onChange={refresh} />
    </section>
  );
}

const RUNNING: Array<Column<RunSummary>> = [
  dagColumn,
  runIdColumn,
  statusColumn,
  { head: "Started", cell: (r) => <span title={formatTime(r.startedAt)}>{fromNow(r.startedAt)}</span> },
  { head: "Duration", cell: (r) => formatDuration(durationOf(r.startedAt, r.finishedAt)) },
];

function waitingColumns(onChange?: () => void): Array<Column<RunSummary>> {
  return [
    dagColumn,
    runIdColumn,
    statusColumn,
    { head: "Queued", cell: (r) => <span title={formatTime(r.queuedAt)}>{fromNow(r.queuedAt)}</span> },
    { head: "Waiting for", className: "name", cell: (r) => r.waitingFor ?? "-" },
    {
      head: "Actions",
      card: "actions",
      cell: (r) => (
        <ConfirmButton
          label={`Dequeue ${r.dagRunId}`}
          title="Dequeue run"
          question={`Take run ${r.dagRunId} of ${r.name} out of line? It ends aborted without running.`}
          confirm="Dequeue"
          action={() => api.get(`/dag-runs/${seg(r.name)}/${seg(r.dagRunId)}/dequeue`)}
          onDone={onChange}
        >
          Dequeue
        </ConfirmButton>
      ),
    },
  ];
}

function RunTable(props: { caption: string; runs: RunSummary[]; waiting?: boolean; onChange?: () => void }) {
  return (
    <ListTable
      label={props.caption}
      caption={props.caption}
      columns={props.waiting ? waitingColumns(props.onChange) : RUNNING}
      rows={props.runs}
      rowKey={(r) => r.dagRunId}
      rowLink={runLink}
      empty={null}
      className="queue-runs"
    />
  );
}

function ConcurrencyButton({ queue, onDone }: { queue: Queue; onDone: () => void }) {
  const [value, setValue] = useState<string | null>(null);
  const set = useMutation({
    mutationFn: (max: number | null) =>
      max === null
        ? api.delete(`/queues/${seg(queue.name)}`)
        : api.put(`/queues/${seg(queue.name)}`, { maxConcurrency: max }),
    onSuccess: () => {
      setValue(null);
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    set.mutate(Number(value));
  };
  return (
    <>
      <button
        type="button"
        aria-label={`Set max concurrency of ${queue.name}`}
        onClick={() => {
          set.reset();
          setValue(String(queue.maxConcurrency ?? 1));
        }}
      >
        Max concurrency…
      </button>
      {value !== null && (
        <Modal title={`Max concurrency of ${queue.name}`} onClose={() => setValue(null)}>
          <form onSubmit={submit}>
            <label>
              Runs at once
              <input
                type="number"
                min={1}
                max={10000}
                value={value}
                onChange={(e) => setValue(e.target.value)}
                required
              />
            </label>
            <span className="muted small">Reset returns the queue to the default of one run at a time.</span>
            <ErrorBox error={set.error} />
            <div className="row" style={{ justifyContent: "flex-end" }}>
              <button type="button" onClick={() => set.mutate(null)} disabled={set.isPending}>
                Reset
              </button>
              <button type="button" onClick={() => setValue(null)}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={set.isPending}>
                Save
              </button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}
