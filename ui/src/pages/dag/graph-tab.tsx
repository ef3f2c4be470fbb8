// The graph tab: the DAG's steps and handlers, coloured by the latest run's statuses.
import { Link } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { type DagDetailsResponse, HANDLER_KEYS, HANDLER_NODE, type HandlerKind, type Step } from "../../api/types";
import { DagGraph, type DagGraphStep } from "../../components/dag-graph";
import { StatusBadge } from "../../components/status-badge";

/** The graph's steps: the DAG's own (depends as the engine follows them), then its handlers. */
export function graphSteps(data: DagDetailsResponse): DagGraphStep[] {
  const run = data.latestDAGRun;
  const statusOf = new Map(run.nodes.map((n) => [n.step.name, n.statusLabel]));
  const steps: DagGraphStep[] = data.dag.steps.map((s) => ({
    name: s.name,
    depends: s.depends,
    status: statusOf.get(s.name),
  }));
  const handlers = Object.entries(data.dag.handlerOn ?? {}) as Array<[HandlerKind, Step]>;
  // In the order they run: init first, exit last.
  handlers.sort(([a], [b]) => HANDLER_KEYS.indexOf(HANDLER_NODE[a]) - HANDLER_KEYS.indexOf(HANDLER_NODE[b]));
  for (const [kind, step] of handlers) {
    const key = HANDLER_NODE[kind];
    steps.push({
      name: step.name || key,
      label: step.name && step.name !== key ? `${key}: ${step.name}` : key,
      depends: [],
      status: run[key]?.statusLabel,
      handler: true,
    });
  }
  return steps;
}

export function GraphTab({ data }: { data: DagDetailsResponse }) {
  const steps = useMemo(() => graphSteps(data), [data]);
  const [selected, setSelected] = useState<string>();
  const run = data.latestDAGRun;
  const hasRun = run.dagRunId !== "";
  const step = selected
    ? (data.dag.steps.find((s) => s.name === selected) ??
      Object.values(data.dag.handlerOn ?? {}).find((s) => s.name === selected))
    : undefined;
  const node = selected
    ? (run.nodes.find((n) => n.step.name === selected) ??
      HANDLER_KEYS.map((k) => run[k]).find((n) => n?.step.name === selected))
    : undefined;

  return (
    <div className="dag-graph-tab">
      <p className="muted small">
        {hasRun ? (
          <>
            Statuses of the latest run,{" "}
            <Link to="/dags/$name/runs/$runId" params={{ name: run.name, runId: run.dagRunId }}>
              {run.dagRunId}
            </Link>
            .
          </>
        ) : (
          "No run yet: every step is not started."
        )}
      </p>
      <DagGraph
        steps={steps}
        selected={selected}
        onSelect={(n) => setSelected((cur) => (cur === n ? undefined : n))}
        ariaLabel={`graph of ${data.dag.name}`}
      />
      {step && (
        <section className="card dag-step-card" aria-label={`step ${step.name}`}>
          <div className="row">
            <h2>{step.name}</h2>
            {node && <StatusBadge status={node.statusLabel} />}
            <span className="spacer" />
            {hasRun && (
              <Link
                to="/dags/$name/runs/$runId"
                params={{ name: run.name, runId: run.dagRunId }}
                search={{ step: step.name }}
              >
                Open its log in the latest run
              </Link>
            )}
          </div>
          {step.description && <p>{step.description}</p>}
          {step.depends.length > 0 && <p className="muted">Depends on: {step.depends.join(", ")}</p>}
          {step.call && <p className="muted">Calls DAG {step.call}</p>}
          {(step.command ?? step.script) && <pre className="dag-step-code">{step.command ?? step.script}</pre>}
        </section>
      )}
    </div>
  );
}
