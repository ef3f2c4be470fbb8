// The runner fleet and the runner tokens.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api, seg } from "../api/client";
import type { RunnerToken, Worker } from "../api/types";
import { ConfirmButton } from "../components/confirm-button";
import { ErrorBox } from "../components/error-box";
import { type Column, ListTable } from "../components/list-table";
import { Modal } from "../components/modal";
import { formatTime, fromNow } from "../lib/format";
import { backoff } from "../lib/poll";
import "./lists.css";

// Health as a status colour: healthy reads as success, warning as partial, unhealthy as failure.
const HEALTH_COLOR: Record<Worker["healthStatus"], string> = {
  healthy: "var(--status-succeeded)",
  warning: "var(--status-partially-succeeded)",
  unhealthy: "var(--status-failed)",
};

// On a phone a runner's card is titled by its id, its health beside it.
const FLEET: Array<Column<Worker>> = [
  { head: "Runner", card: "title", className: "mono name", cell: (w) => w.id },
  {
    head: "Labels",
    className: "name",
    cell: (w) =>
      Object.entries(w.labels).map(([k, v]) => (
        <span key={k} className="tag">
          {k}={v}
        </span>
      )),
  },
  { head: "Slots in use", cell: (w) => `${w.busyPollers} / ${w.totalPollers}` },
  {
    head: "Running steps",
    className: "name",
    cell: (w) =>
      w.runningTasks.map((t) => (
        <span key={`${t.dagRunId}/${t.stepName}`} className="cell-sub">
          <Link
            to="/dags/$name/runs/$runId"
            params={{ name: t.dagName, runId: t.dagRunId }}
            search={t.stepName ? { step: t.stepName } : {}}
          >
            {t.dagName}
            {t.stepName ? ` / ${t.stepName}` : ""}
          </Link>{" "}
          since {fromNow(t.startedAt)}
        </span>
      )),
  },
  {
    head: "Last heartbeat",
    cell: (w) => <span title={formatTime(w.lastHeartbeatAt)}>{fromNow(w.lastHeartbeatAt)}</span>,
  },
  {
    head: "Health",
    card: "badge",
    cell: (w) => (
      <span className="badge" style={{ "--c": HEALTH_COLOR[w.healthStatus] } as React.CSSProperties}>
        {w.healthStatus}
      </span>
    ),
  },
];

export function RunnersPage() {
  const fleet = useQuery({
    queryKey: ["workers"],
    queryFn: () => api.get<{ workers: Worker[] }>("/workers"),
    refetchInterval: backoff(5_000, 30_000),
  });
  return (
    <>
      <div className="page-head">
        <h1>Runners</h1>
      </div>
      <ErrorBox error={fleet.error} />
      {fleet.data && (
        <ListTable
          label="runners"
          columns={FLEET}
          rows={fleet.data.workers}
          rowKey={(w) => w.id}
          empty="No runner has reported. Start one with a runner token (below) on any host."
        />
      )}
      <RunnerTokens />
    </>
  );
}

function RunnerTokens() {
  const qc = useQueryClient();
  const tokens = useQuery({
    queryKey: ["runner-tokens"],
    queryFn: () => api.get<{ tokens: RunnerToken[] }>("/runner-tokens"),
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ["runner-tokens"] });
  return (
    <section aria-label="runner tokens">
      <div className="page-head" style={{ marginTop: "1.5rem" }}>
        <h2 style={{ margin: 0 }}>Runner tokens</h2>
        <div className="end">
          <CreateToken onCreated={refresh} />
        </div>
      </div>
      <ErrorBox error={tokens.error} />
      {tokens.data && (
        <ListTable
          label="runner tokens"
          columns={tokenColumns(refresh)}
          rows={tokens.data.tokens}
          rowKey={(t) => t.id}
          empty="No runner token yet."
        />
      )}
    </section>
  );
}

function tokenColumns(refresh: () => void): Array<Column<RunnerToken>> {
  return [
    { head: "Name", card: "title", className: "name", cell: (t) => t.name },
    { head: "Id", className: "mono name", cell: (t) => t.id },
    { head: "Created", cell: (t) => formatTime(t.createdAt) },
    { head: "State", cell: (t) => (t.revokedAt ? `revoked ${fromNow(t.revokedAt)}` : "active") },
    {
      head: "Actions",
      card: "actions",
      cell: (t) =>
        !t.revokedAt && (
          <ConfirmButton
            danger
            label={`Revoke ${t.name}`}
            title={`Revoke ${t.name}`}
            question="Runners using this token are refused from their next call. This cannot be undone."
            confirm="Revoke"
            action={() => api.delete(`/runner-tokens/${seg(t.id)}`)}
            onDone={refresh}
          >
            Revoke
          </ConfirmButton>
        ),
    },
  ];
}

function CreateToken({ onCreated }: { onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [copied, setCopied] = useState(false);
  const create = useMutation({
    mutationFn: (n: string) => api.post<RunnerToken & { token: string }>("/runner-tokens", { name: n }),
    onSuccess: onCreated,
  });
  const close = () => {
    setOpen(false);
    create.reset(); // the secret leaves memory with the dialog
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(name.trim());
  };
  const secret = create.data?.token;
  return (
    <>
      <button
        type="button"
        className="primary"
        onClick={() => {
          create.reset();
          setName("");
          setCopied(false);
          setOpen(true);
        }}
      >
        New runner token
      </button>
      {open && (
        <Modal title={secret ? "Runner token created" : "New runner token"} onClose={close}>
          {secret ? (
            <>
              <p className="warning" role="note">
                Copy this token now: it will not be shown again.
              </p>
              <div className="secret">
                <input readOnly value={secret} aria-label="Runner token secret" className="mono" size={48} />
                <button
                  type="button"
                  onClick={() =>
                    navigator.clipboard.writeText(secret).then(
                      () => setCopied(true),
                      () => setCopied(false),
                    )
                  }
                >
                  {copied ? "Copied" : "Copy"}
                </button>
              </div>
              <p className="muted small">
                Start a runner with it: <code>DAGFLARE_RUNNER_TOKEN=… node runner.mjs --server {location.origin}</code>
              </p>
              <div className="row" style={{ justifyContent: "flex-end" }}>
                <button type="button" className="primary" onClick={close}>
                  Done
                </button>
              </div>
            </>
          ) : (
            <form onSubmit={submit}>
              <label>
                Token name
                <input value={name} onChange={(e) => setName(e.target.value)} required />
              </label>
              <ErrorBox error={create.error} />
              <div className="row" style={{ justifyContent: "flex-end" }}>
                <button type="button" onClick={close}>
                  Cancel
                </button>
                <button type="submit" className="primary" disabled={create.isPending || !name.trim()}>
                  Create
                </button>
              </div>
            </form>
          )}
        </Modal>
      )}
    </>
  );
}
