// Start a DAG: a dialog with its parameters (prefilled with the defaults) and an optional run ID.
import { useMutation } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useRef, useState } from "react";
import { api, seg } from "../api/client";
import type { Dag } from "../api/types";
import { ErrorBox } from "./error-box";
import "./start-dialog.css";

export function StartDialog({ dag, fileName }: { dag: Dag; fileName: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const navigate = useNavigate();
  const [params, setParams] = useState(dag.defaultParams);
  const [runId, setRunId] = useState("");
  const start = useMutation({
    mutationFn: () =>
      api.post<{ dagRunId: string }>(`/dags/${seg(fileName)}/start`, {
        ...(params.trim() && { params }),
        ...(runId.trim() && { dagRunId: runId.trim() }),
      }),
    onSuccess: ({ dagRunId }) => {
      dialog.current?.close();
      navigate({ to: "/dags/$name/runs/$runId", params: { name: dag.name, runId: dagRunId } });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    start.mutate();
  };
  return (
    <>
      <button
        type="button"
        className="primary"
        onClick={() => {
          setParams(dag.defaultParams);
          start.reset();
          dialog.current?.showModal();
        }}
      >
        Start
      </button>
      <dialog ref={dialog} aria-label={`start ${dag.name}`}>
        <form onSubmit={submit} className="start-form">
          <h2>Start {dag.name}</h2>
          <label>
            Parameters
            <textarea
              rows={3}
              value={params}
              onChange={(e) => setParams(e.target.value)}
              placeholder={dag.params.length ? dag.params.map((p) => `${p}=…`).join(" ") : "KEY=value …"}
            />
          </label>
          {dag.params.length > 0 && <p className="muted small">Parameters: {dag.params.join(", ")}</p>}
          <label>
            Run ID (optional)
            <input value={runId} onChange={(e) => setRunId(e.target.value)} />
          </label>
          <ErrorBox error={start.error} />
          <div className="row">
            <span className="spacer" />
            <button type="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={start.isPending}>
              Start run
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
