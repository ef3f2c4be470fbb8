import { useMutation } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api, seg } from "../api/client";
import { useCan } from "../api/me";
import type { Dag } from "../api/types";
import { type ParamField, paramFields, startParams } from "../lib/params";
import { ErrorBox } from "./error-box";
import { Modal } from "./modal";

/**
 * Starts a DAG: a button that opens a form with one field per param of the DAG (filled with its
 * defaults), then opens the new run's page.
 */
export function StartDialog({ dag, fileName }: { dag: Dag; fileName: string }) {
  const canStart = useCan("operator");
  const [fields, setFields] = useState<ParamField[] | null>(null);
  const [free, setFree] = useState("");
  const navigate = useNavigate();
  const start = useMutation({
    mutationFn: (params: string | undefined) =>
      api.post<{ dagRunId: string }>(`/dags/${seg(fileName)}/start`, params === undefined ? {} : { params }),
    onSuccess: ({ dagRunId }) => {
      setFields(null);
      navigate({ to: "/dags/$name/runs/$runId", params: { name: dag.name, runId: dagRunId } });
    },
  });
  const open = () => {
    start.reset();
    setFree("");
    setFields(paramFields(dag.params ?? [], dag.defaultParams ?? ""));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!fields) return;
    start.mutate(fields.length ? startParams(fields) : free.trim() || undefined);
  };
  // A role that may not start runs does not see the button (the server refuses it anyway).
  if (!canStart) return null;
  return (
    <>
      <button type="button" onClick={open} aria-label={`Start ${dag.name}`}>
        ▶ Start
      </button>
      {fields && (
        <Modal title={`Start ${dag.name}`} onClose={() => setFields(null)}>
          <form onSubmit={submit}>
            {fields.map((f, i) => (
              <label key={f.name}>
                {f.name}
                <input
                  value={f.value}
                  onChange={(e) => setFields(fields.map((g, j) => (j === i ? { ...g, value: e.target.value } : g)))}
                />
              </label>
            ))}
            {fields.length === 0 && (
              <label>
                Parameters (optional, KEY=value or JSON)
                <input value={free} onChange={(e) => setFree(e.target.value)} />
              </label>
            )}
            <ErrorBox error={start.error} />
            <div className="row" style={{ justifyContent: "flex-end" }}>
              <button type="button" onClick={() => setFields(null)}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={start.isPending}>
                Start run
              </button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}
