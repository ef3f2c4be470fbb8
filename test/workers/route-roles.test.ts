// The roles table against the app: every served route has a role, and each role opens exactly
// the doors of its level (representative routes of each level, called with an API key of each
// role and with a signed-in user's session).
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CreateApiKeyResponse } from "../../src/access/api-keys";
import { API_PREFIX } from "../../src/access/require-role";
import { ROLES, type Role } from "../../src/access/roles";
import { levelOf, ROUTE_ROLES } from "../../src/access/route-roles";
import { app } from "../../src/app";
import { api, createDag, extApi, startDag } from "./helpers";

const served = app.routes
  .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v2"))
  .map((r) => ({ method: r.method, path: r.path.replace(API_PREFIX, "") || "/" }));

describe("the roles table", () => {
  it("names a role for every route the app serves", () => {
    const missing = served.filter((r) => levelOf(r.method, r.path) === undefined).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it("lists no route the app does not serve", () => {
    const routes = new Set(served.map((r) => `${r.method} ${r.path}`));
    const stale = ROUTE_ROLES.map(([m, p]) => `${m} ${p}`).filter((r) => !routes.has(r));
    expect(stale).toEqual([]);
  });
});

/** One route of each level, with a body that passes validation; a 2xx or a 4xx other than 403 means the door opened. */
const DOORS: Array<{ level: Role; method: string; path: string; body?: unknown; ext?: true }> = [
  { level: "viewer", method: "GET", path: "/dags" },
  { level: "operator", method: "POST", path: "/dags/roles-dag/start", body: {} },
  { level: "developer", method: "PUT", path: "/dags/roles-dag/spec", body: { spec: "steps:\n  - command: echo hi\n" } },
  { level: "manager", method: "GET", path: "/runner-tokens", ext: true },
  { level: "admin", method: "GET", path: "/users" },
];

const keys = new Map<Role, string>();
async function keyFor(role: Role): Promise<string> {
  const known = keys.get(role);
  if (known) return known;
  const r = await extApi("POST", "/api-keys", { name: `${role} key`, role }, CreateApiKeyResponse);
  expect(r.status).toBe(201);
  keys.set(role, r.body.key);
  return r.body.key;
}

const cases = ROLES.flatMap((role) =>
  DOORS.map((door) => ({ role, door, allowed: ROLES.indexOf(role) >= ROLES.indexOf(door.level) })),
);

describe("each role at each door", () => {
  it.each(cases)(
    "$role at the $door.level door ($door.method $door.path): allowed=$allowed",
    async ({ role, door, allowed }) => {
      await createDagOnce();
      const token = await keyFor(role);
      // Dagu's contract has no manager-level operation: the manager door is one of dagflare's own.
      const r = door.ext
        ? await extApi(door.method, door.path, door.body, z.unknown(), token)
        : await api(door.method, door.path, door.body, token);
      if (allowed) {
        expect(r.status, JSON.stringify(r.body)).not.toBe(403);
        expect(r.status).toBeLessThan(500);
      } else {
        expect(r.status).toBe(403);
        expect(r.body).toEqual({
          code: "forbidden",
          message: `${role} key (${role}) may not call ${door.method} ${templateOf(door.path)}: it needs the ${door.level} role or higher`,
          details: { requiredRole: door.level, role },
        });
      }
    },
  );

  it("leaves nothing changed when a role is refused", async () => {
    await createDagOnce();
    const before = (await api("GET", "/dags/roles-dag/spec")).body.spec;
    const r = await api(
      "PUT",
      "/dags/roles-dag/spec",
      { spec: "steps:\n  - command: echo changed\n" },
      await keyFor("operator"),
    );
    expect(r.status).toBe(403);
    expect((await api("GET", "/dags/roles-dag/spec")).body.spec).toBe(before);
  });

  it("refuses a viewer's session a stop, and lets an operator's session stop the run", async () => {
    await createDagOnce();
    const runId = await startDag("roles-dag");
    const sessions: Record<string, string> = {};
    for (const role of ["viewer", "operator"] as const) {
      const username = `roles-${role}`;
      await api("POST", "/users", { username, password: "long enough password", role });
      sessions[role] = (
        await api("POST", "/auth/login", { username, password: "long enough password" }, null)
      ).body.token;
    }
    const refused = await api("POST", `/dag-runs/roles-dag/${runId}/stop`, undefined, sessions.viewer);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/^roles-viewer \(viewer\) may not call POST/);
    const stopped = await api("POST", `/dag-runs/roles-dag/${runId}/stop`, undefined, sessions.operator);
    expect(stopped.status).toBe(200);
  });
});

let dagCreated = false;
async function createDagOnce() {
  if (dagCreated) return;
  await createDag("roles-dag", "steps:\n  - command: echo hi\n");
  dagCreated = true;
}

/** The route template as the 403 names it. */
function templateOf(path: string): string {
  return path.replace("/dags/roles-dag/", "/dags/:fileName/");
}
