// A DAG: its header (what it is, when it runs, its actions) and tabs for the graph, the history
// grid, the spec editor and the runs. The tab is in the URL (?tab=).
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { lazy, Suspense } from "react";
import { ErrorBox } from "../components/error-box";
import { DAG_TABS, type DagTab } from "../router";
import { GraphTab } from "./dag/graph-tab";
import { DagHeader } from "./dag/header";
import { HistoryTab } from "./dag/history-tab";
import { useDag } from "./dag/queries";
import { RunsTab } from "./dag/runs-tab";
import "./dag/dag-page.css";

// The editor is the page's largest part and only the spec tab needs it: it loads on demand.
const SpecTab = lazy(() => import("./dag/spec-tab"));

const TAB_NAMES: Record<DagTab, string> = { graph: "Graph", history: "History", spec: "Spec", runs: "Runs" };

export function DagPage() {
  const { name } = useParams({ from: "/dags/$name" });
  const { tab = "graph" } = useSearch({ from: "/dags/$name" });
  const navigate = useNavigate({ from: "/dags/$name" });
  const dag = useDag(name);

  if (dag.error) {
    return (
      <>
        <h1>{name}</h1>
        <ErrorBox error={dag.error} />
        <Link to="/dags">Back to DAGs</Link>
      </>
    );
  }
  if (!dag.data) return <p className="muted">Loading…</p>;
  const data = dag.data;

  return (
    <>
      <DagHeader fileName={name} data={data} />
      <div className="tabs" role="tablist" aria-label="DAG views">
        {DAG_TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`dag-tab-${t}`}
            aria-selected={t === tab}
            aria-controls="dag-tab-panel"
            tabIndex={t === tab ? 0 : -1}
            onClick={() => navigate({ search: { tab: t } })}
            onKeyDown={(e) => {
              // Arrow keys move between tabs, as in every tab list.
              const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
              if (!step) return;
              const next = DAG_TABS[(DAG_TABS.indexOf(t) + step + DAG_TABS.length) % DAG_TABS.length] ?? t;
              navigate({ search: { tab: next } });
              document.getElementById(`dag-tab-${next}`)?.focus();
            }}
          >
            {TAB_NAMES[t]}
          </button>
        ))}
      </div>
      <div id="dag-tab-panel" role="tabpanel" aria-labelledby={`dag-tab-${tab}`}>
        {tab === "graph" && <GraphTab data={data} />}
        {tab === "history" && <HistoryTab fileName={name} />}
        {tab === "spec" && (
          <Suspense fallback={<p className="muted">Loading the editor…</p>}>
            <SpecTab fileName={name} />
          </Suspense>
        )}
        {tab === "runs" && <RunsTab dagName={data.dag.name} />}
      </div>
    </>
  );
}
