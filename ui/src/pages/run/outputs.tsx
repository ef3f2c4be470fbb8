// The run's outputs: each step's output variables, and the values later steps see.
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { StepStatusLabel } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { type Column, ListTable } from "../../components/list-table";
import { StatusBadge } from "../../components/status-badge";

interface RunOutputs {
  steps: Array<{ step: string; status: string; outputs: Record<string, string> }>;
  variables: Record<string, string>;
}

/** One output of a step; a step without any has one row saying so. Its step and status are on its first row. */
interface OutputRow {
  step: string;
  status?: StepStatusLabel;
  name: string;
  value: string;
}

// Step, variable and value read across, so the table stays a table on a phone too.
const OUTPUTS: Array<Column<OutputRow>> = [
  { head: "Step", cell: (r) => r.status && r.step },
  { head: "Status", cell: (r) => r.status && <StatusBadge status={r.status} /> },
  { head: "Variable", cell: (r) => r.name || <span className="muted">not captured</span> },
  { head: "Value", cell: (r) => r.value },
];
const VARIABLES: Array<Column<[string, string]>> = [
  { head: "Variable", cell: ([k]) => k },
  { head: "Value", cell: ([, v]) => v },
];

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
  const rows = steps.flatMap((s) => {
    const entries = Object.entries(s.outputs);
    return (entries.length > 0 ? entries : [["", ""]]).map(([name = "", value = ""], i) => ({
      step: s.step,
      status: i === 0 ? (s.status as StepStatusLabel) : undefined,
      name,
      value,
    }));
  });
  return (
    <>
      <ListTable
        label="outputs by step"
        layout="table"
        className="outputs-table"
        columns={OUTPUTS}
        rows={rows}
        rowKey={(r) => `${r.step}\u0000${r.name}`}
        empty={null}
      />
      <h2>Variables later steps see</h2>
      <ListTable
        label="variables"
        layout="table"
        className="outputs-table"
        columns={VARIABLES}
        rows={Object.entries(variables)}
        rowKey={([k]) => k}
        empty="No variable yet."
      />
    </>
  );
}
