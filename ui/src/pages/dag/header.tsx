// What the DAG is and when it runs, with its actions: start and suspend/resume.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api, seg } from "../../api/client";
import { useCan } from "../../api/me";
import type { DagDetailsResponse } from "../../api/types";
import { ErrorBox } from "../../components/error-box";
import { StartDialog } from "../../components/start-dialog";
import { StatusBadge } from "../../components/status-badge";
import { formatTime, fromNow } from "../../lib/format";
import { dagKey } from "./queries";

export function DagHeader({ fileName, data }: { fileName: string; data: DagDetailsResponse & { nextRun?: string } }) {
  const { dag, latestDAGRun: run, suspended } = data;
  const qc = useQueryClient();
  const canOperate = useCan("operator");
  const suspend = useMutation({
    mutationFn: (on: boolean) => api.post(`/dags/${seg(fileName)}/suspend`, { suspend: on }),
    onSettled: () => qc.invalidateQueries({ queryKey: dagKey(fileName) }),
  });
  const hasRun = run.dagRunId !== "";
  return (
    <header className="dag-header">
      <div className="row">
        <h1>{dag.name}</h1>
        {hasRun ? (
          <Link to="/dags/$name/runs/$runId" params={{ name: run.name, runId: run.dagRunId }} aria-label="latest run">
            <StatusBadge status={run.statusLabel} />
          </Link>
        ) : (
          <span className="muted">never run</span>
        )}
        {suspended && <span className="tag">suspended</span>}
        <span className="spacer" />
        <StartDialog dag={dag} fileName={fileName} />
        {canOperate && (
          <button type="button" disabled={suspend.isPending} onClick={() => suspend.mutate(!suspended)}>
            {suspended ? "Resume" : "Suspend"}
          </button>
        )}
      </div>
      {dag.description && <p className="dag-description">{dag.description}</p>}
      <dl className="dag-facts">
        {fileName !== dag.name && <Fact term="File">{fileName}</Fact>}
        {dag.group && <Fact term="Group">{dag.group}</Fact>}
        {dag.tags.length > 0 && (
          <Fact term="Tags">
            {dag.tags.map((t) => (
              <Link key={t} to="/dags" search={{ tag: t }} className="tag">
                {t}
              </Link>
            ))}
          </Fact>
        )}
        <Fact term="Schedule">
          {dag.schedule.length ? dag.schedule.map((s) => <code key={s.expression}>{s.expression} </code>) : "manual"}
        </Fact>
        {dag.schedule.length > 0 && (
          <Fact term="Next run">
            {suspended ? (
              "none while suspended"
            ) : data.nextRun ? (
              <time dateTime={data.nextRun} title={formatTime(data.nextRun)}>
                {formatTime(data.nextRun)} ({fromNow(data.nextRun)})
              </time>
            ) : (
              "-"
            )}
          </Fact>
        )}
        {hasRun && (
          <Fact term="Latest run">
            <time dateTime={run.startedAt}>{formatTime(run.startedAt)}</time>
          </Fact>
        )}
      </dl>
      <ErrorBox error={suspend.error} />
    </header>
  );
}

function Fact({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
