// Current Dagu serves its API under /api/v1: the same handlers answer there.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CreateApiKeyResponse } from "../../src/access/api-keys";
import { extApi, RUNNER_TOKEN, USER_TOKEN } from "./helpers";

async function v1(method: string, path: string, body?: unknown, token: string | null = USER_TOKEN) {
  const res = await exports.default.fetch(`http://dagflare.test/api/v1${path}`, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe("the API under /api/v1", () => {
  it("creates, lists and starts a DAG as under /api/v2", async () => {
    expect(
      (await v1("POST", "/dags", { name: "v1dag", spec: "steps:\n  - name: a\n    command: echo\n" })).status,
    ).toBe(201);
    const list = await v1("GET", "/dags?name=v1dag");
    expect(list.body.dags.map((d: { fileName: string }) => d.fileName)).toEqual(["v1dag"]);
    const started = await v1("POST", "/dags/v1dag/start", {});
    expect(started.status).toBe(200);
    expect(started.body.dagRunId).toEqual(expect.any(String));
  });

  it("needs the same token, and answers the health check without one", async () => {
    expect((await v1("GET", "/dags", undefined, null)).status).toBe(401);
    expect((await v1("GET", "/health", undefined, null)).status).toBe(200);
  });

  it("gives a key the same role: a viewer reads under /api/v1 and may not write there", async () => {
    const created = await extApi("POST", "/api-keys", { name: "v1-viewer", role: "viewer" }, CreateApiKeyResponse);
    const key = created.body.key as string;
    expect((await v1("GET", "/dags", undefined, key)).status).toBe(200);
    const refused = await v1("POST", "/dags", { name: "by-viewer" }, key);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("forbidden");
  });

  it("keeps the runner protocol under /api/v2 only", async () => {
    const r = await v1("POST", "/runners/lease", { runnerId: "r1", max: 1 }, RUNNER_TOKEN);
    expect(r.status).toBe(404);
    expect(r.body.message).toMatch(/runner protocol is under \/api\/v2/);
  });
});
