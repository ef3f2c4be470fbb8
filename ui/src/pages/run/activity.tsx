// Who did what to the run (dagflare's `actions`) and the mail it sent (`notifications`), from
// the run's details; both are read from the API, not pushed over the run's socket.
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { ErrorBox } from "../../components/error-box";

interface Activity {
  dagRunDetails: {
    actions?: Array<{ action: string; step?: string; actor: string; actorKind: string; at: string }>;
    notifications?: Array<{
      kind: string;
      to: string[];
      subject: string;
      status: string;
      attempts: number;
      lastError?: string;
      sentAt?: string;
    }>;
  };
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
      {actions.length === 0 ? (
        <p className="muted">Nobody has acted on this run through the API.</p>
      ) : (
        <table className="list" aria-label="who did what">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Step</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <tr key={`${a.at}\u0000${a.action}\u0000${a.step ?? ""}\u0000${a.actor}`}>
                <td>{new Date(a.at).toLocaleString()}</td>
                <td>{a.action}</td>
                <td>{a.step ?? ""}</td>
                <td>
                  {a.actor} <span className="muted">({BY[a.actorKind] ?? a.actorKind})</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {notifications.length > 0 && (
        <>
          <h3>Mail</h3>
          <table className="list" aria-label="mail">
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">To</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {notifications.map((n) => (
                <tr key={`${n.kind}\u0000${n.subject}`}>
                  <td>{n.subject}</td>
                  <td>{n.to.join(", ")}</td>
                  <td>{n.status}</td>
                  <td>{n.attempts}</td>
                  <td>{n.lastError ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
