// Runner credentials: tokens created, listed and revoked through the API; each credential
// opens only its own door; a revoked runner is refused at its next call.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { RUNNER_TOKEN_CACHE_MS, verifyRunnerToken } from "../../src/runner-token-cache";
import {
  CreateRunnerTokenResponse,
  RunnerTokenInfo,
  RunnerTokenList,
  revokeRunnerToken,
} from "../../src/runner-tokens";
import { api, callCounts, complete, createDag, extApi, RUNNER_TOKEN, runnerApi, startDag, USER_TOKEN } from "./helpers";

async function newToken(name: string): Promise<{ id: string; token: string }> {
  const r = await extApi("POST", "/runner-tokens", { name }, CreateRunnerTokenResponse);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const leaseWith = (token: string) => runnerApi("/lease", { runnerId: "tok-runner", max: 1, waitMs: 0 }, token);

describe("runner tokens", () => {
  it("creates a token whose secret is shown once and which opens the runner endpoints", async () => {
    const created = await newToken("build host 1");
    expect(created.token).toMatch(/^dfr_[0-9a-f]{12}_[0-9a-f]{40}$/);
    expect((await leaseWith(created.token)).status).toBe(200);
    const list = await extApi("GET", "/runner-tokens", undefined, RunnerTokenList);
    const listed = list.body.tokens.find((t: { id: string }) => t.id === created.id);
    expect(listed).toEqual({ id: created.id, name: "build host 1", pools: ["default"], createdAt: expect.any(String) });
    expect(JSON.stringify(list.body)).not.toContain(created.token.slice(-40));
  });

  it("refuses a revoked token at its next call, and keeps it listed as revoked", async () => {
    await createDag("tok-dag", "steps:\n  - echo hi\n");
    const { id, token } = await newToken("to revoke");
    await startDag("tok-dag");
    const [l] = (await leaseWith(token)).body.leases;
    expect(l).toBeDefined();
    const revoked = await extApi("DELETE", `/runner-tokens/${id}`, undefined, RunnerTokenInfo);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));

    const hb = await runnerApi(`/leases/${l.leaseId}/heartbeat`, { token: l.token }, token);
    expect(hb.status).toBe(401);
    expect(hb.body).toMatchObject({ code: "unauthorized", message: `runner token ${id} was revoked` });
    expect((await leaseWith(token)).status).toBe(401);
    // The refused call changed nothing: the lease is still current for a valid credential.
    expect((await complete(l, 0)).body.accepted).toBe(true);
    const list = await extApi("GET", "/runner-tokens", undefined, RunnerTokenList);
    expect(list.body.tokens.find((t: { id: string }) => t.id === id).revokedAt).toBe(revoked.body.revokedAt);
  });

  it("keeps the bootstrap token working beside created ones", async () => {
    const { id } = await newToken("other");
    await extApi("DELETE", `/runner-tokens/${id}`, undefined, RunnerTokenInfo);
    expect((await leaseWith(RUNNER_TOKEN)).status).toBe(200);
  });

  it("refuses a created runner token on the user API, and the user token on the runner endpoints", async () => {
    const { token } = await newToken("door test");
    const refused = [
      await api("GET", "/dags", undefined, token),
      await api("GET", "/workers", undefined, token),
      await extApi("GET", "/runner-tokens", undefined, RunnerTokenList, token),
      await extApi("POST", "/runner-tokens", { name: "escalate" }, CreateRunnerTokenResponse, token),
    ];
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: "forbidden", message: "a runner token cannot call the user API" });
    }
    const r = await runnerApi("/heartbeat", { runnerId: "x", totalSlots: 1 }, USER_TOKEN);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("forbidden");
  });

  it("refuses forged tokens: a known id with a wrong secret, and an unknown id", async () => {
    const { token } = await newToken("forge target");
    const wrongSecret = `${token.slice(0, -1)}${token.endsWith("0") ? "1" : "0"}`;
    const unknownId = `dfr_${"0".repeat(12)}_${"a".repeat(40)}`;
    for (const forged of [wrongSecret, unknownId, "dfr_short", `${RUNNER_TOKEN}x`]) {
      const r = await leaseWith(forged);
      expect(r.status, forged).toBe(401);
      expect(r.body).toMatchObject({ code: "unauthorized", message: "invalid bearer token" });
    }
  });

  it("answers bad input on the token API with the field at fault", async () => {
    const empty = await extApi("POST", "/runner-tokens", { name: " " }, CreateRunnerTokenResponse);
    expect(empty.status).toBe(400);
    expect(empty.body.details.fields).toEqual(["name"]);
    expect((await extApi("DELETE", "/runner-tokens/nope", undefined, RunnerTokenInfo)).status).toBe(400);
    const missing = await extApi("DELETE", `/runner-tokens/${"f".repeat(12)}`, undefined, RunnerTokenInfo);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("not_found");
  });

  it("reads a created token from D1 once per window, however many calls its runner makes", async () => {
    const { token } = await newToken("busy host");
    const was = await callCounts();
    for (let i = 0; i < 20; i++) {
      const r = await runnerApi("/heartbeat", { runnerId: "busy", labels: {}, totalSlots: 1, running: [] }, token);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    expect((await callCounts())("DB.prepare") - was("DB.prepare")).toBe(1);
  });

  it(`refuses a token revoked by another isolate within ${RUNNER_TOKEN_CACHE_MS / 1000} s`, async () => {
    const { id, token } = await newToken("revoked elsewhere");
    const t0 = Date.now();
    expect((await verifyRunnerToken(env.DB, token, t0)).kind).toBe("valid");
    // What another isolate's DELETE /runner-tokens/{id} does: the row, not this isolate's memory.
    await revokeRunnerToken(env.DB, id);
    expect(await verifyRunnerToken(env.DB, token, t0 + RUNNER_TOKEN_CACHE_MS)).toEqual({ kind: "revoked", id });
  });

  it("is described in /openapi.json from its zod schemas", async () => {
    const res = await app.request("/api/v2/openapi.json", {}, env);
    const doc = (await res.json()) as any;
    const create = doc.paths["/runner-tokens"].post;
    expect(create.requestBody.content["application/json"].schema.required).toEqual(["name"]);
    expect(create.responses["201"].content["application/json"].schema.properties).toHaveProperty("token");
    expect(doc.paths["/runner-tokens/{id}"].delete.responses).toHaveProperty("404");
  });
});
