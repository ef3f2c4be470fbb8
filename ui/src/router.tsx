// The UI's pages and their URL search parameters (filters live in the URL, so a view can be shared).
import { createRootRoute, createRoute, createRouter, redirect } from "@tanstack/react-router";
import { lazy } from "react";
import { Layout } from "./components/layout";
import { AccessPage } from "./pages/access";
import { DagPage } from "./pages/dag";
import { DagsPage } from "./pages/dags";
import { QueuesPage } from "./pages/queues";
import { RunPage } from "./pages/run";
import { RunnersPage } from "./pages/runners";
import { RunsPage } from "./pages/runs";
import { SystemPage } from "./pages/system";
import { WebhooksPage } from "./pages/webhooks";

// The API reference is large and seldom opened: it loads on demand.
const ApiDocsPage = lazy(() => import("./pages/api-docs"));

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};
function oneOf<T extends string>(values: readonly T[]) {
  return (v: unknown): T | undefined => (values.includes(v as T) ? (v as T) : undefined);
}

export const DAG_TABS = ["graph", "history", "spec", "runs"] as const;
export type DagTab = (typeof DAG_TABS)[number];
export const RUN_TABS = ["graph", "steps", "timeline", "outputs", "activity"] as const;
export type RunTab = (typeof RUN_TABS)[number];

const rootRoute = createRootRoute({ component: Layout });

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/",
  beforeLoad: () => {
    throw redirect({ to: "/dags" });
  },
});

export interface DagsSearch {
  name?: string;
  tag?: string;
  status?: number;
  page?: number;
  perPage?: number;
}
const dagsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/dags",
  validateSearch: (s: Record<string, unknown>): DagsSearch => ({
    name: str(s.name),
    tag: str(s.tag),
    status: num(s.status),
    page: num(s.page),
    perPage: num(s.perPage),
  }),
  component: DagsPage,
});

export interface DagSearch {
  tab?: DagTab;
}
const dagRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/dags/$name",
  validateSearch: (s: Record<string, unknown>): DagSearch => ({ tab: oneOf(DAG_TABS)(s.tab) }),
  component: DagPage,
});

export interface RunSearch {
  tab?: RunTab;
  /** The step whose log is open. */
  step?: string;
  stream?: "stdout" | "stderr";
  attempt?: number;
}
const validateRunSearch = (s: Record<string, unknown>): RunSearch => ({
  tab: oneOf(RUN_TABS)(s.tab),
  step: str(s.step),
  stream: oneOf(["stdout", "stderr"] as const)(s.stream),
  attempt: num(s.attempt),
});
const runRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/dags/$name/runs/$runId",
  validateSearch: validateRunSearch,
  component: RunPage,
});
const subRunRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/dags/$name/runs/$runId/sub/$subId",
  validateSearch: validateRunSearch,
  component: RunPage,
});

export interface RunsSearch {
  status?: number;
  name?: string;
  /** Dates (YYYY-MM-DD, the user's time zone), sent to the API as Unix seconds. */
  from?: string;
  to?: string;
  page?: number;
  perPage?: number;
}
const runsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/runs",
  validateSearch: (s: Record<string, unknown>): RunsSearch => ({
    status: num(s.status),
    name: str(s.name),
    from: str(s.from),
    to: str(s.to),
    page: num(s.page),
    perPage: num(s.perPage),
  }),
  component: RunsPage,
});

const queuesRoute = createRoute({ getParentRoute: () => rootRoute, path: "/queues", component: QueuesPage });
const runnersRoute = createRoute({ getParentRoute: () => rootRoute, path: "/runners", component: RunnersPage });
const systemRoute = createRoute({ getParentRoute: () => rootRoute, path: "/system", component: SystemPage });
const accessRoute = createRoute({ getParentRoute: () => rootRoute, path: "/access", component: AccessPage });
const webhooksRoute = createRoute({ getParentRoute: () => rootRoute, path: "/webhooks", component: WebhooksPage });
const apiDocsRoute = createRoute({ getParentRoute: () => rootRoute, path: "/api-docs", component: ApiDocsPage });

const routeTree = rootRoute.addChildren([
  indexRoute,
  dagsRoute,
  dagRoute,
  runRoute,
  subRunRoute,
  runsRoute,
  queuesRoute,
  runnersRoute,
  systemRoute,
  apiDocsRoute,
  accessRoute,
  webhooksRoute,
]);

export const router = createRouter({ routeTree, defaultPreload: "intent" });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
