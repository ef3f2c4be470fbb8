import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { api, RUNNER_TOKEN, runnerApi, USER_TOKEN } from "./helpers";

describe("authentication", () => {
  it("serves /health without a token", async () => {
    const r = await api("GET", "/health", undefined, null);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("healthy");
  });

  it("refuses the user API without a token", async () => {
    const r = await api("GET", "/dags", undefined, null);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe("unauthorized");
  });

  it("refuses a wrong token", async () => {
    expect((await api("GET", "/dags", undefined, "nope")).status).toBe(401);
  });

  it("refuses the runner token on the user API", async () => {
    const r = await api("GET", "/dags", undefined, RUNNER_TOKEN);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("forbidden");
  });

  it("refuses the user token on the runner endpoints", async () => {
    const r = await runnerApi("/lease", { runnerId: "x", max: 1, waitMs: 0 }, USER_TOKEN);
    expect(r.status).toBe(403);
  });

  it("refuses to serve when no token is configured and auth was not turned off", async () => {
    const bare = { ...env, DAGFLARE_API_TOKEN: undefined, DAGFLARE_AUTH: undefined };
    const res = await app.request("/api/v2/dags", {}, bare);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/DAGFLARE_API_TOKEN is not configured/);
  });

  it("serves without a token when the operator set DAGFLARE_AUTH=off", async () => {
    const open = { ...env, DAGFLARE_API_TOKEN: undefined, DAGFLARE_AUTH: "off" };
    const res = await app.request("/api/v2/dags", {}, open);
    expect(res.status).toBe(200);
  });
});

describe("the OpenAPI document of dagflare's additions", () => {
  it("is served without a token and describes the runner protocol from its schemas", async () => {
    const res = await app.request("/api/v2/openapi.json", {}, env);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/runners/lease", "/runners/leases/{leaseId}/complete"]),
    );
    const lease = doc.paths["/runners/lease"].post.requestBody.content["application/json"].schema;
    expect(lease.required).toEqual(expect.arrayContaining(["runnerId", "max"]));
  });
});
