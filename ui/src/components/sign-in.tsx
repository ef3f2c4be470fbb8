import { type FormEvent, useState } from "react";
import { api } from "../api/client";
import { setToken } from "../api/token";

/** Asks for the API token when the server requires one; it is checked before it is kept. */
export function SignIn({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setToken(value.trim());
    try {
      await api.get("/dags", { perPage: 1 });
      onDone();
    } catch (err) {
      setToken(null);
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card">
        <h1>dagflare</h1>
        <p className="muted">This server requires an API token.</p>
        <label>
          API token
          <input
            type="password"
            autoComplete="current-password"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !value.trim()}>
          Sign in
        </button>
        <p className="muted small">The token is kept in this tab only and sent as a bearer token.</p>
      </form>
    </main>
  );
}
