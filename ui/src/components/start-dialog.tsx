import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api, seg } from "../api/client";
import { useCan } from "../api/me";
import type { Dag } from "../api/types";
import { type ParamField, paramFields, startParams } from "../lib/params";
import { ErrorBox } from "./error-box";
import { Modal } from "./modal";

interface NamedSet {
  name: string;
  description: string;
}
interface ParameterSet extends NamedSet {
  params: Record<string, string>;
}

/**
 * Starts a DAG: a button that opens a form with one field per param of the DAG (filled with its
 * defaults), a context and a parameter set to pick from the server's lists, then opens the new
 * run's page. Picking a parameter set fills the fields with its values over the defaults, so
 * the form shows what the run will get; what is typed after that wins, as the API's rule says.
 */
export function StartDialog({ dag, fileName }: { dag: Dag; fileName: string }) {
  const canStart = useCan("operator");
  const [fields, setFields] = useState<ParamField[] | null>(null);
  const [free, setFree] = useState("");
  const [context, setContext] = useState("");
  const [parameterSet, setParameterSet] = useState("");
  const navigate = useNavigate();
  const opened = fields !== null;
  const contexts = useQuery({
    queryKey: ["contexts"],
    queryFn: () => api.get<{ contexts: NamedSet[] }>("/contexts"),
    enabled: opened,
  });
  const sets = useQuery({
    queryKey: ["parameter-sets"],
    queryFn: () => api.get<{ parameterSets: ParameterSet[] }>("/parameter-sets"),
    enabled: opened,
  });
  const defaults = () => paramFields(dag.params ?? [], dag.defaultParams ?? "");
  const pickSet = (name: string) => {
    setParameterSet(name);
    const chosen = sets.data?.parameterSets.find((s) => s.name === name);
    setFields(defaults().map((f) => ({ ...f, value: chosen?.params[f.name] ?? f.value })));
  };
  const start = useMutation({
    mutationFn: (params: string | undefined) =>
      api.post<{ dagRunId: string }>(`/dags/${seg(fileName)}/start`, {
        ...(params !== undefined && { params }),
        ...(context && { context }),
        ...(parameterSet && { parameterSet }),
      }),
    onSuccess: ({ dagRunId }) => {
      setFields(null);
      navigate({ to: "/dags/$name/runs/$runId", params: { name: dag.name, runId: dagRunId } });
    },
  });
  const open = () => {
    start.reset();
    setFree("");
    setContext("");
    setParameterSet("");
    setFields(defaults());
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
            <label>
              Context
              <select value={context} onChange={(e) => setContext(e.target.value)}>
                <option value="">(none)</option>
                {contexts.data?.contexts.map((c) => (
                  <option key={c.name} value={c.name} title={c.description}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Parameter set
              <select value={parameterSet} onChange={(e) => pickSet(e.target.value)}>
                <option value="">(none)</option>
                {sets.data?.parameterSets.map((s) => (
                  <option key={s.name} value={s.name} title={s.description}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
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
