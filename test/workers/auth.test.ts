import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { CreateRunnerTokenResponse } from "../../src/runner-tokens";
import { api, extApi, RUNNER_TOKEN, runnerApi, USER_TOKEN } from "./helpers";

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
    const bare = {
      ...env,
      DAGFLARE_API_TOKEN: undefined,
      DAGFLARE_SESSION_SECRET: undefined,
      DAGFLARE_AUTH: undefined,
    };
    const res = await app.request("/api/v2/dags", {}, bare);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/DAGFLARE_API_TOKEN is not configured/);
  });

  it("refuses every call, with one clear error, while the user token is also the runner token", async () => {
    const shared = "the-same-value-for-both-doors-0123456789";
    const misconfigured = { ...env, DAGFLARE_API_TOKEN: shared, DAGFLARE_RUNNER_TOKEN: shared };
    const calls = [
      app.request("/api/v2/dags", { headers: { authorization: `Bearer ${shared}` } }, misconfigured),
      app.request("/api/v2/health", {}, misconfigured),
      app.request(
        "/api/v2/runners/lease",
        { method: "POST", headers: { authorization: `Bearer ${shared}` }, body: "{}" },
        misconfigured,
      ),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        code: "internal_error",
        message:
          "refusing to serve: DAGFLARE_API_TOKEN is also a runner token, so any runner could call the whole API; give it a value of its own (`wrangler secret put DAGFLARE_API_TOKEN`)",
      });
    }
  });

  it("refuses every call while the user token is a created runner token", async () => {
    const created = await extApi(
      "POST",
      "/runner-tokens",
      { name: "copied into the wrong secret" },
      CreateRunnerTokenResponse,
    );
    const misconfigured = { ...env, DAGFLARE_API_TOKEN: created.body.token };
    const res = await app.request(
      "/api/v2/dags",
      { headers: { authorization: `Bearer ${created.body.token}` } },
      misconfigured,
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/^refusing to serve/);
  });

  it("warns once in the logs about a configured token shorter than 32 characters", async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    try {
      const short = { ...env, DAGFLARE_API_TOKEN: "short-user-token", DAGFLARE_RUNNER_TOKEN: "r".repeat(32) };
      for (let i = 0; i < 2; i++) {
        const res = await app.request("/api/v2/dags", { headers: { authorization: "Bearer short-user-token" } }, short);
        expect(res.status).toBe(200);
      }
    } finally {
      spy.mockRestore();
    }
    expect(warnings).toEqual([
      "DAGFLARE_API_TOKEN is 16 characters long, shorter than 32: use a long random value (e.g. `openssl rand -hex 32`)",
    ]);
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
