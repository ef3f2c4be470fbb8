// Users and API keys (admins): create a user with a role, change a role, reset a password,
// delete; create an API key (its secret is shown this once) and revoke one.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, seg } from "../api/client";
import { ROLES, type Role, useMe } from "../api/me";
import { ErrorBox } from "../components/error-box";
import { ListTable } from "../components/list-table";
import { formatTime } from "../lib/format";
import "./lists.css";

interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
}
interface ApiKey {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  revokedAt?: string;
}

const usersKey = ["users"] as const;
const keysKey = ["api-keys"] as const;

export function AccessPage() {
  return (
    <>
      <h1>Users and API keys</h1>
      <Users />
      <ApiKeys />
    </>
  );
}

function RoleSelect(props: { value: Role; onChange: (r: Role) => void; label: string; disabled?: boolean }) {
  return (
    <select
      aria-label={props.label}
      value={props.value}
      disabled={props.disabled}
      onChange={(e) => props.onChange(e.target.value as Role)}
    >
      {ROLES.map((r) => (
        <option key={r}>{r}</option>
      ))}
    </select>
  );
}

function Users() {
  const qc = useQueryClient();
  const me = useMe().data;
  const users = useQuery({ queryKey: usersKey, queryFn: () => api.get<{ users: User[] }>("/users") });
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" as Role });
  const refresh = () => qc.invalidateQueries({ queryKey: usersKey });
  const create = useMutation({
    mutationFn: () => api.post("/users", form),
    onSuccess: () => {
      setForm({ username: "", password: "", role: "viewer" });
      refresh();
    },
  });
  const change = useMutation({
    mutationFn: (op: { id: string; role?: Role; password?: string; remove?: true }) =>
      op.remove
        ? api.delete(`/users/${seg(op.id)}`)
        : op.password !== undefined
          ? api.post(`/users/${seg(op.id)}/reset-password`, { newPassword: op.password })
          : api.patch(`/users/${seg(op.id)}`, { role: op.role }),
    onSettled: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  // Signed in as this user: its own role and account are not its to change here.
  const isSelf = (u: User) => me?.credential === "session" && me.user.id === u.id;
  return (
    <section aria-label="users">
      <h2>Users</h2>
      <form className="row" onSubmit={submit} aria-label="new user">
        <label>
          User name
          <input value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="new-password"
            minLength={8}
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            required
          />
        </label>
        <RoleSelect label="Role" value={form.role} onChange={(role) => setForm({ ...form, role })} />
        <button type="submit" className="primary" disabled={create.isPending}>
          Create user
        </button>
      </form>
      <ErrorBox error={create.error ?? change.error ?? users.error} />
      {users.data && (
        <ListTable
          label="users"
          rows={users.data.users}
          rowKey={(u) => u.id}
          empty="No users yet. Create one above: each signs in with a name and password and acts with its role."
          columns={[
            { head: "User", card: "title", className: "name", cell: (u) => u.username },
            {
              head: "Role",
              cell: (u) => (
                <RoleSelect
                  label={`role of ${u.username}`}
                  value={u.role}
                  disabled={isSelf(u)}
                  onChange={(role) => change.mutate({ id: u.id, role })}
                />
              ),
            },
            { head: "Created", cell: (u) => formatTime(u.createdAt) },
            {
              head: "Actions",
              card: "actions",
              cell: (u) => (
                <>
                  <button
                    type="button"
                    onClick={() => {
                      const password = window.prompt(`New password for ${u.username} (at least 8 characters)`);
                      if (password) change.mutate({ id: u.id, password });
                    }}
                  >
                    Reset password
                  </button>
                  {!isSelf(u) && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() =>
                        window.confirm(`Delete ${u.username}?`) && change.mutate({ id: u.id, remove: true })
                      }
                    >
                      Delete
                    </button>
                  )}
                </>
              ),
            },
          ]}
        />
      )}
    </section>
  );
}

function ApiKeys() {
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: keysKey, queryFn: () => api.get<{ apiKeys: ApiKey[] }>("/api-keys") });
  const [form, setForm] = useState({ name: "", role: "viewer" as Role });
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: keysKey });
  const create = useMutation({
    mutationFn: () => api.post<ApiKey & { key: string }>("/api-keys", form),
    onSuccess: (k) => {
      setShown({ name: k.name, key: k.key });
      setForm({ name: "", role: "viewer" });
      refresh();
    },
  });
  const revoke = useMutation({ mutationFn: (id: string) => api.delete(`/api-keys/${seg(id)}`), onSettled: refresh });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section aria-label="API keys">
      <h2>API keys</h2>
      <form className="row" onSubmit={submit} aria-label="new API key">
        <label>
          Name
          <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <RoleSelect label="Key role" value={form.role} onChange={(role) => setForm({ ...form, role })} />
        <button type="submit" className="primary" disabled={create.isPending}>
          Create API key
        </button>
      </form>
      {shown && (
        <p role="status">
          The key {shown.name}, shown this once: <code>{shown.key}</code>
        </p>
      )}
      <ErrorBox error={create.error ?? revoke.error ?? keys.error} />
      {keys.data && (
        <ListTable
          label="API keys"
          rows={keys.data.apiKeys}
          rowKey={(k) => k.id}
          empty="No API keys yet. Create one above for a script or a CI system: it acts with the role you give it."
          columns={[
            { head: "Name", card: "title", className: "name", cell: (k) => k.name },
            { head: "Role", cell: (k) => k.role },
            { head: "Created", cell: (k) => formatTime(k.createdAt) },
            { head: "By", className: "name", cell: (k) => k.createdBy },
            {
              head: "Actions",
              card: "actions",
              cell: (k) =>
                k.revokedAt ? (
                  <span className="muted">revoked {formatTime(k.revokedAt)}</span>
                ) : (
                  <button type="button" className="danger" onClick={() => revoke.mutate(k.id)}>
                    Revoke
                  </button>
                ),
            },
          ]}
        />
      )}
    </section>
  );
}
