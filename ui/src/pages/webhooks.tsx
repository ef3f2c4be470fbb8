// Outgoing webhooks (managers and admins): register one (its signing secret is shown this
// once), list and delete them, and see a webhook's recent deliveries with every attempt.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, seg } from "../api/client";
import { ConfirmButton } from "../components/confirm-button";
import { ErrorBox } from "../components/error-box";
import { ListTable } from "../components/list-table";
import { formatTime } from "../lib/format";
import "./lists.css";

interface Webhook {
  id: string;
  name: string;
  url: string;
  events: string[];
  filters: { dagNames?: string[]; stepNames?: string[] };
  headerNames: string[];
  format: "json" | "slack";
  createdBy: string;
  createdAt: string;
}
interface Attempt {
  attempt: number;
  at: string;
  durationMs: number;
  httpStatus?: number;
  error?: string;
}
interface Delivery {
  id: string;
  event: string;
  createdAt: string;
  status: "pending" | "delivered" | "failed";
  nextAttemptAt?: string;
  attempts: Attempt[];
}

const hooksKey = ["outgoing-webhooks"] as const;
const EMPTY = { name: "", url: "", events: "dag.*", dagNames: "", stepNames: "", headers: "", format: "json" };

/** "a, b" -> ["a", "b"]; empty parts dropped. */
const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** "Name: value" lines -> an object; the server names a bad one. */
function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (line.trim() && at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** A webhook's filters in words, or "none". */
function filtersOf(w: Webhook) {
  const parts = [
    w.filters.dagNames?.length && `DAGs ${w.filters.dagNames.join(", ")}`,
    w.filters.stepNames?.length && `steps ${w.filters.stepNames.join(", ")}`,
  ].filter(Boolean);
  return parts.length ? parts.join("; ") : <span className="muted">none</span>;
}

export function WebhooksPage() {
  const qc = useQueryClient();
  const hooks = useQuery({ queryKey: hooksKey, queryFn: () => api.get<{ webhooks: Webhook[] }>("/outgoing-webhooks") });
  const [form, setForm] = useState(EMPTY);
  const [shown, setShown] = useState<{ name: string; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: hooksKey });
  const create = useMutation({
    mutationFn: () =>
      api.post<Webhook & { secret: string }>("/outgoing-webhooks", {
        ...(form.name.trim() && { name: form.name.trim() }),
        url: form.url.trim(),
        events: list(form.events),
        filters: {
          ...(list(form.dagNames).length && { dagNames: list(form.dagNames) }),
          ...(list(form.stepNames).length && { stepNames: list(form.stepNames) }),
        },
        headers: headersOf(form.headers),
        format: form.format,
      }),
    onSuccess: (w) => {
      setShown({ name: w.name, secret: w.secret });
      setForm(EMPTY);
      refresh();
    },
  });
  const field = (key: keyof typeof EMPTY) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <h1>Webhooks</h1>
      <p className="muted">
        Events of runs and runners, POSTed and signed as the documentation's webhooks page describes.
      </p>
      <form className="row" onSubmit={submit} aria-label="new webhook">
        <label>
          Name
          <input {...field("name")} placeholder="the URL's host" />
        </label>
        <label>
          URL
          <input {...field("url")} type="url" required placeholder="https://..." />
        </label>
        <label>
          Events
          <input {...field("events")} required title="comma-separated: dag.*, task.failed, runner.*, *" />
        </label>
        <label>
          DAG names
          <input {...field("dagNames")} placeholder="all" title="comma-separated, * matches any characters" />
        </label>
        <label>
          Step names
          <input {...field("stepNames")} placeholder="all" title="comma-separated, * matches any characters" />
        </label>
        <label>
          Headers
          <textarea {...field("headers")} rows={1} placeholder="Name: value, one a line" />
        </label>
        <label>
          Format
          <select {...field("format")}>
            <option value="json">json</option>
            <option value="slack">slack</option>
          </select>
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create webhook
        </button>
      </form>
      {shown && (
        <p role="status">
          The signing secret of {shown.name}, shown this once: <code>{shown.secret}</code>
        </p>
      )}
      <ErrorBox error={create.error ?? hooks.error} />
      {hooks.data && (
        <ListTable
          label="webhooks"
          rows={hooks.data.webhooks}
          rowKey={(w) => w.id}
          empty={
            <>
              No webhooks yet. Register one with the form above: the events it names are then POSTed to its URL, signed
              with its secret.
            </>
          }
          columns={[
            { head: "Name", card: "title", className: "name", cell: (w) => w.name },
            { head: "URL", className: "name", cell: (w) => <code>{w.url}</code> },
            { head: "Events", cell: (w) => w.events.join(", ") },
            { head: "Filters", className: "name", cell: filtersOf },
            { head: "Format", cell: (w) => w.format },
            {
              head: "Created",
              className: "name",
              cell: (w) => (
                <>
                  {formatTime(w.createdAt)} by {w.createdBy}
                </>
              ),
            },
            {
              head: "Actions",
              card: "actions",
              cell: (w) => (
                <>
                  <button
                    type="button"
                    aria-label={`Deliveries of ${w.name}`}
                    aria-expanded={open === w.id}
                    onClick={() => setOpen(open === w.id ? null : w.id)}
                  >
                    Deliveries
                  </button>
                  <ConfirmButton
                    danger
                    label={`Delete ${w.name}`}
                    title="Delete webhook"
                    question={`Delete the webhook ${w.name}? Nothing more is sent to ${w.url}.`}
                    confirm="Delete"
                    action={() => api.delete(`/outgoing-webhooks/${seg(w.id)}`)}
                    onDone={() => {
                      if (open === w.id) setOpen(null);
                      refresh();
                    }}
                  >
                    Delete
                  </ConfirmButton>
                </>
              ),
            },
          ]}
        />
      )}
      {open && <Deliveries id={open} name={hooks.data?.webhooks.find((w) => w.id === open)?.name ?? open} />}
    </>
  );
}

function Deliveries(props: { id: string; name: string }) {
  const deliveries = useQuery({
    queryKey: [...hooksKey, props.id, "deliveries"],
    queryFn: () => api.get<{ deliveries: Delivery[] }>(`/outgoing-webhooks/${seg(props.id)}/deliveries`),
    refetchInterval: 5_000,
  });
  return (
    <section aria-label={`deliveries of ${props.name}`}>
      <h2>Deliveries of {props.name}</h2>
      <ErrorBox error={deliveries.error} />
      {deliveries.data && (
        <ListTable
          label="deliveries"
          rows={deliveries.data.deliveries}
          rowKey={(d) => d.id}
          empty="No delivery yet."
          columns={[
            { head: "Event", card: "title", cell: (d) => d.event },
            { head: "Created", cell: (d) => formatTime(d.createdAt) },
            {
              head: "Status",
              card: "badge",
              cell: (d) => (
                <>
                  {d.status}
                  {d.nextAttemptAt && <span className="muted"> (next {formatTime(d.nextAttemptAt)})</span>}
                </>
              ),
            },
            {
              head: "Attempts",
              className: "name",
              cell: (d) =>
                d.attempts.map((a) => (
                  <div key={a.attempt}>
                    #{a.attempt} {formatTime(a.at)}: {a.httpStatus !== undefined ? `HTTP ${a.httpStatus}` : a.error} in{" "}
                    {a.durationMs} ms
                  </div>
                )),
            },
          ]}
        />
      )}
    </section>
  );
}
