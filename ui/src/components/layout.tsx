import { Link, Outlet } from "@tanstack/react-router";
import { Suspense, useState } from "react";
import { useCan, useMe } from "../api/me";
import { getToken, setToken } from "../api/token";
import { applyTheme, initialTheme, type Theme } from "../lib/theme";

const NAV = [
  { to: "/dags", label: "DAGs" },
  { to: "/runs", label: "Runs" },
  { to: "/queues", label: "Queues" },
  { to: "/runners", label: "Runners" },
  { to: "/system", label: "System" },
  { to: "/api-docs", label: "API" },
] as const;

export function Layout() {
  const me = useMe().data;
  const admin = useCan("admin");
  const manager = useCan("manager");
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const toggle = () => {
    const next = theme === "dark" ? "light" : "dark";
    applyTheme(next);
    setTheme(next);
  };
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/dags" className="brand" aria-label="dagflare home">
          <img src="/favicon.svg" alt="" width={22} height={22} /> dagflare
        </Link>
        <nav aria-label="main">
          {NAV.map((n) => (
            <Link key={n.to} to={n.to} activeProps={{ className: "active", "aria-current": "page" }}>
              {n.label}
            </Link>
          ))}
          {manager && (
            <Link to="/webhooks" activeProps={{ className: "active", "aria-current": "page" }}>
              Webhooks
            </Link>
          )}
          {admin && (
            <Link to="/access" activeProps={{ className: "active", "aria-current": "page" }}>
              Users
            </Link>
          )}
        </nav>
        <div className="topbar-end">
          {me && (
            <span className="muted" title="signed in as" data-testid="signed-in">
              {me.user.username} ({me.user.role})
            </span>
          )}
          <button type="button" onClick={toggle} aria-label={`switch to ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "☀ Light" : "☾ Dark"}
          </button>
          {getToken() && (
            <button type="button" onClick={() => setToken(null)}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" className="content">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
