import { type FormEvent, useState } from "react";
import { api } from "../api/client";
import { setToken } from "../api/token";

type Mode = "password" | "token";

/**
 * Signs in with a user name and password (a session from POST /auth/login), or with an API
 * token or key; either is checked before it is kept.
 */
export function SignIn({ onDone }: { onDone: () => void }) {
  const [mode, setMode] = useState<Mode>("password");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [token, setTokenText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "password") {
        const r = await api.post<{ token: string }>("/auth/login", { username: username.trim(), password });
        setToken(r.token);
      } else {
        setToken(token.trim());
        await api.get("/auth/me");
      }
      onDone();
    } catch (err) {
      setToken(null);
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const ready = mode === "password" ? username.trim() !== "" && password !== "" : token.trim() !== "";
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card">
        <h1>dagflare</h1>
        <fieldset className="row plain" aria-label="sign in with">
          <label className="check">
            <input type="radio" name="mode" checked={mode === "password"} onChange={() => setMode("password")} />
            With a password
          </label>
          <label className="check">
            <input type="radio" name="mode" checked={mode === "token"} onChange={() => setMode("token")} />
            With an API token or key
          </label>
        </fieldset>
        {mode === "password" ? (
          <>
            <label>
              User name
              <input autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
            </label>
            <label>
              Password
              <input
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                required
              />
            </label>
          </>
        ) : (
          <label>
            API token
            <input
              type="password"
              autoComplete="off"
              value={token}
              onChange={(e) => setTokenText(e.target.value)}
              required
            />
          </label>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !ready}>
          Sign in
        </button>
        <p className="muted small">What you sign in with is kept in this tab only and sent as a bearer token.</p>
      </form>
    </main>
  );
}
