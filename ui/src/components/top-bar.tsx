// The top bar: the brand, the main navigation, who is signed in, the theme switch and sign-out.
// It stays one line at every width: in a narrow window (shell.css's breakpoints) the navigation
// moves into a menu button's panel, the signed-in name shortens with an ellipsis (whole in its
// title and in the panel) and the theme switch shows only its symbol.
import { Link, useRouterState } from "@tanstack/react-router";
import { useEffect, useId, useRef, useState } from "react";
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
  { to: "/webhooks", label: "Webhooks", role: "manager" },
  { to: "/access", label: "Users", role: "admin" },
] as const;

// The router's own marking of an active link (any page under its path) would mark DAGs on a
// run's page: a link is marked by sectionOf alone, the router marks at most the same link.
const EXACT = { exact: true, includeSearch: false } as const;
const NO_PROPS = {};

/**
 * The link of the section a page belongs to. A run's page sits under its DAG's path
 * (/dags/<name>/runs/<id>) but is one of the runs, so it is Runs'; a DAG's page is DAGs'; every
 * other page is its first path segment's. (Matching links by path prefix would mark DAGs on a
 * run's page.)
 */
export function sectionOf(pathname: string): string {
  if (/^\/dags\/[^/]+\/runs\//.test(pathname)) return "/runs";
  return `/${pathname.split("/")[1] ?? ""}`;
}

export function TopBar() {
  const me = useMe().data;
  const admin = useCan("admin");
  const manager = useCan("manager");
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const toggle = () => {
    const next = theme === "dark" ? "light" : "dark";
    applyTheme(next);
    setTheme(next);
  };
  const menu = useMenu();
  const section = sectionOf(useRouterState({ select: (s) => s.location.pathname }));
  const who = me ? `${me.user.username} (${me.user.role})` : undefined;
  const themeName = theme === "dark" ? "Light" : "Dark";
  return (
    <header className="topbar" ref={menu.barRef}>
      <Link to="/dags" className="brand" aria-label="dagflare home">
        <img src="/favicon.svg" alt="" width={22} height={22} /> <span className="brand-name">dagflare</span>
      </Link>
      <button
        type="button"
        className="menu-button"
        aria-expanded={menu.open}
        aria-controls={menu.panelId}
        onClick={() => menu.setOpen(!menu.open)}
        ref={menu.buttonRef}
      >
        <span aria-hidden="true">☰</span> Menu
      </button>
      <div className="topbar-menu" id={menu.panelId} data-open={menu.open || undefined}>
        <nav aria-label="main">
          {NAV.filter((n) => !("role" in n) || (n.role === "admin" ? admin : manager)).map((n) => (
            <Link
              key={n.to}
              to={n.to}
              onClick={menu.close}
              activeOptions={EXACT}
              activeProps={NO_PROPS}
              {...(section === n.to && { className: "active", "aria-current": "page" as const })}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        {who && (
          <p className="menu-account">
            Signed in as <strong data-testid="menu-signed-in">{who}</strong>
          </p>
        )}
      </div>
      <div className="topbar-end">
        {me && (
          <span className="muted signed-in" title={`Signed in as ${who}`} data-testid="signed-in">
            <span className="signed-in-name">{me.user.username}</span> <span>({me.user.role})</span>
          </span>
        )}
        <button
          type="button"
          onClick={toggle}
          aria-label={`switch to ${themeName.toLowerCase()} theme`}
          title={`${themeName} theme`}
        >
          <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
          <span className="theme-name"> {themeName}</span>
        </button>
        {getToken() && (
          <button type="button" onClick={() => setToken(null)}>
            Sign out
          </button>
        )}
      </div>
    </header>
  );
}

/**
 * The narrow window's menu: it closes when a page is chosen, on Escape
 * (focus back on its button) and on a click outside the bar, as a disclosure menu does.
 */
function useMenu() {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const barRef = useRef<HTMLElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setOpen(false);
      buttonRef.current?.focus();
    };
    const onPointer = (e: PointerEvent) => {
      if (!barRef.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);
  return { open, setOpen, close: () => setOpen(false), panelId, barRef, buttonRef };
}
