// The app's frame: the top bar, and the page below it (or "Loading…" while its code arrives).
import { Outlet } from "@tanstack/react-router";
import { Suspense } from "react";
import { TopBar } from "./top-bar";

export function Layout() {
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <TopBar />
      <main id="main" className="content">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
