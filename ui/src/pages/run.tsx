// A run's page: header and actions, then tabs (steps, graph, timeline, outputs) and the selected step's
// panel with its live log. Everything follows the run's socket (or polling when it is down).
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useMemo } from "react";
import { runPath, useRunLive } from "../api/live";
import { DagGraph } from "../components/dag-graph";
import { ErrorBox } from "../components/error-box";
import { isActive } from "../lib/status";
import type { RunSearch, RunTab } from "../router";
import { ActivityView } from "./run/activity";
import { findNode, listNodes } from "./run/nodes";
import { Outputs } from "./run/outputs";
import { RunHeader } from "./run/run-header";
import { StepPanel } from "./run/step-panel";
import { StepsTable } from "./run/steps-table";
import { Timeline } from "./run/timeline";
import "./run/run.css";

const TABS: Array<{ id: RunTab; label: string }> = [
  { id: "steps", label: "Steps" },
  { id: "graph", label: "Graph" },
  { id: "timeline", label: "Timeline" },
  { id: "outputs", label: "Outputs" },
  { id: "activity", label: "Activity" },
];

export function RunPage() {
  const { name, runId, subId } = useParams({ strict: false }) as { name: string; runId: string; subId?: string };
  const search = useSearch({ strict: false }) as RunSearch;
  const navigate = useNavigate();
  const { live, details, connection, error } = useRunLive(name, runId, subId);
  const nodes = useMemo(() => (details ? listNodes(details) : []), [details]);
  // The graph shows a parallel step as one node; its instances are in the steps table.
  const graphSteps = useMemo(
    () =>
      nodes
        .filter((l) => l.instanceOf === undefined)
        .map((l) => ({
          name: l.node.step.name,
          depends: l.node.step.depends ?? [],
          status: l.node.statusLabel,
          handler: l.handler !== undefined,
        })),
    [nodes],
  );
  const setSearch = (patch: Partial<RunSearch>) => {
    const next = { ...search, ...patch };
    if (subId === undefined)
      navigate({ to: "/dags/$name/runs/$runId", params: { name, runId }, search: next, replace: true });
    else
      navigate({
        to: "/dags/$name/runs/$runId/sub/$subId",
        params: { name, runId, subId },
        search: next,
        replace: true,
      });
  };
  if (!details) {
    return error ? <ErrorBox error={error} /> : <p className="muted">Loading run…</p>;
  }
  const tab: RunTab = TABS.some((t) => t.id === search.tab) ? (search.tab as RunTab) : "steps";
  const restPath = runPath(name, runId, subId);
  const actionPath = runPath(details.name, details.dagRunId);
  const finished = !isActive(details.statusLabel) && details.statusLabel !== "not_started";
  const selected = search.step ? findNode(details, search.step) : undefined;
  const showPanel = selected !== undefined && (tab === "steps" || tab === "graph");
  const onSelect = (step: string) => setSearch({ step, attempt: undefined });
  return (
    <div className="run-page">
      <RunHeader
        live={live}
        details={details}
        connection={connection}
        root={{ name, runId }}
        isSub={subId !== undefined}
        restPath={restPath}
        actionPath={actionPath}
        finished={finished}
      />
      <ErrorBox error={error} />
      <div className="tabs" role="tablist" aria-label="run views">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={t.id === tab}
            onClick={() => setSearch({ tab: t.id === "steps" ? undefined : t.id })}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={TABS.find((t) => t.id === tab)?.label}>
        {(tab === "steps" || tab === "graph") && (
          <div className={`run-body${showPanel ? " with-panel" : ""}`}>
            {tab === "steps" ? (
              <StepsTable nodes={nodes} selected={selected?.node.step.name} onSelect={onSelect} />
            ) : (
              <DagGraph
                steps={graphSteps}
                selected={selected?.node.step.name}
                onSelect={onSelect}
                ariaLabel="graph of the run"
              />
            )}
            {showPanel && (
              <StepPanel
                key={selected.node.step.name}
                live={live}
                details={details}
                listed={selected}
                root={{ name, runId }}
                restPath={restPath}
                actionPath={actionPath}
                finished={finished}
                stream={search.stream ?? "stdout"}
                attempt={search.attempt}
                onLog={(v) => setSearch(v)}
                onClose={() => setSearch({ step: undefined, stream: undefined, attempt: undefined })}
              />
            )}
          </div>
        )}
        {tab === "timeline" && <Timeline nodes={nodes} />}
        {tab === "activity" && (
          <ActivityView actionPath={actionPath} version={`${details.statusLabel}\u0000${details.finishedAt}`} />
        )}
        {tab === "outputs" && (
          <Outputs actionPath={actionPath} version={`${details.statusLabel}\u0000${details.finishedAt}`} />
        )}
      </div>
    </div>
  );
}
