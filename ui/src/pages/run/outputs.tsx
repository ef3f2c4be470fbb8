// The run's outputs: each step's output variables, and the values later steps see.
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { StepStatusLabel } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { StatusBadge } from "../../components/status-badge";

interface RunOutputs {
  steps: Array<{ step: string; status: string; outputs: Record<string, string> }>;
  variables: Record<string, string>;
}

export function Outputs(props: { actionPath: string; version: string }) {
  // `version` (the run's status and finish) refetches when the run moves on.
  const q = useQuery({
    queryKey: ["outputs", props.actionPath, props.version],
    queryFn: () => api.get<RunOutputs>(`${props.actionPath}/outputs`),
  });
  if (q.error) return <ErrorBox error={q.error} />;
  if (!q.data) return <p className="muted">Loading…</p>;
  const { steps, variables } = q.data;
  if (steps.length === 0) return <p className="muted">No step of this run declares an output.</p>;
  return (
    <>
      <div className="table-scroll">
        <table className="list outputs-table" aria-label="outputs by step">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Status</th>
              <th scope="col">Variable</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {steps.flatMap((s) => {
              const entries = Object.entries(s.outputs);
              const rows = entries.length > 0 ? entries : [["", ""] as [string, string]];
              return rows.map(([k, v], i) => (
                <tr key={`${s.step}\u0000${k}`}>
                  <td>{i === 0 ? s.step : ""}</td>
                  <td>{i === 0 && <StatusBadge status={s.status as StepStatusLabel} />}</td>
                  <td>{k || <span className="muted">not captured</span>}</td>
                  <td>{v}</td>
                </tr>
              ));
            })}
          </tbody>
        </table>
      </div>
      <h2>Variables later steps see</h2>
      <div className="table-scroll">
        <table className="list outputs-table" aria-label="variables">
          <thead>
            <tr>
              <th scope="col">Variable</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(variables).map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
