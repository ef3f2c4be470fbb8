// Current Dagu serves its API under /api/v1: the same handlers answer there.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { USER_TOKEN } from "./helpers";

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
});
