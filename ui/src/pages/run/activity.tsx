// Who did what to the run (dagflare's `actions`) and the mail it sent (`notifications`), from
// the run's details; both are read from the API, not pushed over the run's socket.
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { ErrorBox } from "../../components/error-box";
import { ListTable } from "../../components/list-table";
import { formatTime } from "../../lib/format";

interface Action {
  action: string;
  step?: string;
  actor: string;
  actorKind: string;
  at: string;
}
interface Mail {
  kind: string;
  to: string[];
  subject: string;
  status: string;
  attempts: number;
  lastError?: string;
  sentAt?: string;
}
interface Activity {
  dagRunDetails: { actions?: Action[]; notifications?: Mail[] };
}

const BY: Record<string, string> = {
  user: "user",
  "api-key": "API key",
  "operator-token": "operator token",
  open: "no sign-in",
  system: "dagflare",
};

export function ActivityView(props: { actionPath: string; version: string }) {
  // `version` (the run's status and finish) refetches when the run moves on.
  const q = useQuery({
    queryKey: ["activity", props.actionPath, props.version],
    queryFn: () => api.get<Activity>(props.actionPath),
  });
  if (q.error) return <ErrorBox error={q.error} />;
  if (!q.data) return <p className="muted">Loading…</p>;
  const { actions = [], notifications = [] } = q.data.dagRunDetails;
  return (
    <>
      <h3>Who did what</h3>
      <ListTable
        label="who did what"
        rows={actions}
        rowKey={(a) => `${a.at}\u0000${a.action}\u0000${a.step ?? ""}\u0000${a.actor}`}
        empty="Nobody has acted on this run through the API."
        columns={[
          { head: "When", cell: (a) => formatTime(a.at) },
          { head: "Action", card: "title", cell: (a) => a.action },
          { head: "Step", className: "name", cell: (a) => a.step ?? "" },
          {
            head: "By",
            className: "name",
            cell: (a) => (
              <>
                {a.actor} <span className="muted">({BY[a.actorKind] ?? a.actorKind})</span>
              </>
            ),
          },
        ]}
      />
      {notifications.length > 0 && (
        <>
          <h3>Mail</h3>
          <ListTable
            label="mail"
            rows={notifications}
            rowKey={(n) => `${n.kind}\u0000${n.subject}`}
            empty={null}
            columns={[
              { head: "Subject", card: "title", cell: (n) => n.subject },
              { head: "To", className: "name", cell: (n) => n.to.join(", ") },
              { head: "Status", cell: (n) => n.status },
              { head: "Attempts", cell: (n) => n.attempts },
              { head: "Last error", className: "name", cell: (n) => n.lastError ?? "" },
            ]}
          />
        </>
      )}
    </>
  );
}
