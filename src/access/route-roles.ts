// THE table of who may call what: every route of the API (relative to /api/v2, in Hono's path
// syntax, as the routes register it) with the least role that may call it. One middleware
// (require-role.ts) enforces it; test/workers/route-roles.test.ts walks every route the app
// serves and fails on one missing here, so a new route cannot ship without a role.
import type { Role } from "./roles";

/** "public": no credential at all; "runner": the runner door (runner tokens, src/auth.ts). */
export type Level = Role | "public" | "runner";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

const RUN = "/dag-runs/:name/:dagRunId";
const SUB = `${RUN}/sub-dag-runs/:subDAGRunId`;

export const ROUTE_ROLES: ReadonlyArray<readonly [Method, string, Level]> = [
  // No credential.
  ["GET", "/health", "public"],
  ["GET", "/openapi.json", "public"],
  ["POST", "/auth/login", "public"],
  // A DAG's webhook token, checked by the route itself (src/routes/webhooks-in.ts).
  ["POST", "/webhooks/:fileName", "public"],

  // The runner door: runner tokens only.
  ["POST", "/runners/lease", "runner"],
  ["POST", "/runners/heartbeat", "runner"],
  ["GET", "/runners/socket", "runner"],
  ["POST", "/runners/leases/:leaseId/heartbeat", "runner"],
  ["POST", "/runners/leases/:leaseId/logs", "runner"],
  ["POST", "/runners/leases/:leaseId/complete", "runner"],
  ["POST", "/runners/leases/:leaseId/release", "runner"],
  ["POST", "/runners/completions", "runner"],

  // Every signed-in caller: who am I, my own password.
  ["GET", "/auth/me", "viewer"],
  ["POST", "/auth/change-password", "viewer"],

  // Reading.
  ["GET", "/dags", "viewer"],
  ["GET", "/dags/tags", "viewer"],
  ["GET", "/dags/search", "viewer"],
  ["GET", "/dags/:fileName", "viewer"],
  ["GET", "/dags/:fileName/spec", "viewer"],
  ["GET", "/dags/:fileName/dag-runs", "viewer"],
  ["GET", "/dags/:fileName/dag-runs/:dagRunId", "viewer"],
  ["GET", "/dag-runs", "viewer"],
  ["GET", "/dag-runs/:name", "viewer"],
  ["GET", RUN, "viewer"],
  ["GET", `${RUN}/live`, "viewer"],
  ["GET", `${RUN}/outputs`, "viewer"],
  ["GET", `${RUN}/inputs`, "viewer"],
  ["GET", `${RUN}/log`, "viewer"],
  ["GET", `${RUN}/steps/:stepName/log`, "viewer"],
  ["GET", `${RUN}/sub-dag-runs`, "viewer"],
  ["GET", SUB, "viewer"],
  ["GET", `${SUB}/live`, "viewer"],
  ["GET", `${SUB}/log`, "viewer"],
  ["GET", `${SUB}/steps/:stepName/log`, "viewer"],
  ["GET", "/workers", "viewer"],
  ["GET", "/metrics", "viewer"],
  ["GET", "/queues", "viewer"],
  ["GET", "/services/scheduler", "viewer"],
  ["GET", "/services/coordinator", "viewer"],
  ["GET", "/services/resources/history", "viewer"],
  ["GET", "/contexts", "viewer"],
  ["GET", "/contexts/:name", "viewer"],
  ["GET", "/parameter-sets", "viewer"],
  ["GET", "/parameter-sets/:name", "viewer"],

  // Operating runs.
  ["POST", "/dags/:fileName/start", "operator"],
  ["POST", "/dags/:fileName/enqueue", "operator"],
  ["POST", "/dags/:fileName/stop-all", "operator"],
  ["POST", "/dags/:fileName/suspend", "operator"],
  ["POST", `${RUN}/stop`, "operator"],
  ["POST", `${RUN}/retry`, "operator"],
  ["POST", `${RUN}/reschedule`, "operator"],
  ["GET", `${RUN}/dequeue`, "operator"],
  ["POST", `${RUN}/steps/:stepName/approve`, "operator"],
  ["POST", `${RUN}/steps/:stepName/reject`, "operator"],
  ["PATCH", `${RUN}/steps/:stepName/status`, "operator"],
  ["PATCH", `${SUB}/steps/:stepName/status`, "operator"],

  // Writing DAGs (an inline spec is a DAG written and run at once).
  ["POST", "/dags", "developer"],
  ["POST", "/dags/validate", "developer"],
  ["DELETE", "/dags/:fileName", "developer"],
  ["PUT", "/dags/:fileName/spec", "developer"],
  ["POST", "/dags/:fileName/rename", "developer"],
  ["POST", "/dag-runs", "developer"],
  ["POST", "/dag-runs/enqueue", "developer"],
  // Contexts and parameter sets shape what runs do, as DAG files do.
  ["POST", "/contexts", "developer"],
  ["PUT", "/contexts/:name", "developer"],
  ["DELETE", "/contexts/:name", "developer"],
  ["POST", "/parameter-sets", "developer"],
  ["PUT", "/parameter-sets/:name", "developer"],
  ["DELETE", "/parameter-sets/:name", "developer"],

  // Managing the installation.
  ["PUT", "/queues/:name", "manager"],
  ["DELETE", "/queues/:name", "manager"],
  ["POST", "/queues/:name/purge", "manager"],
  ["GET", "/runner-tokens", "manager"],
  ["POST", "/runner-tokens", "manager"],
  ["DELETE", "/runner-tokens/:id", "manager"],
  ["POST", "/dag-runs/cleanup", "manager"],
  ["GET", "/dags/:fileName/webhook-tokens", "manager"],
  ["POST", "/dags/:fileName/webhook-tokens", "manager"],
  ["DELETE", "/dags/:fileName/webhook-tokens/:id", "manager"],
  ["GET", "/outgoing-webhooks", "manager"],
  ["POST", "/outgoing-webhooks", "manager"],
  ["GET", "/outgoing-webhooks/:id", "manager"],
  ["DELETE", "/outgoing-webhooks/:id", "manager"],
  ["GET", "/outgoing-webhooks/:id/deliveries", "manager"],

  // People and keys.
  ["GET", "/users", "admin"],
  ["POST", "/users", "admin"],
  ["GET", "/users/:userId", "admin"],
  ["PATCH", "/users/:userId", "admin"],
  ["DELETE", "/users/:userId", "admin"],
  ["POST", "/users/:userId/reset-password", "admin"],
  ["GET", "/api-keys", "admin"],
  ["POST", "/api-keys", "admin"],
  ["DELETE", "/api-keys/:id", "admin"],
];

const byRoute = new Map(ROUTE_ROLES.map(([method, path, level]) => [`${method} ${path}`, level]));

/** The level of a route as Hono registered it (`path` relative to the API prefix); undefined when unlisted. */
export const levelOf = (method: string, path: string): Level | undefined =>
  byRoute.get(`${method === "HEAD" ? "GET" : method} ${path}`);
