// API keys: created with a role, shown once, listed without secrets, revoked; a key opens the
// user API only, never the runner endpoints.
import { describe, expect, it } from "vitest";
import { ApiKeyList, CreateApiKeyResponse, MAX_ACTIVE_API_KEYS } from "../../src/access/api-keys";
import { CreateRunnerTokenResponse } from "../../src/runner-tokens";
import { api, extApi, runnerApi } from "./helpers";

async function createKey(name: string, role = "viewer") {
  const r = await extApi<{ id: string; key: string }>("POST", "/api-keys", { name, role }, CreateApiKeyResponse);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

describe("API keys", () => {
  it("shows the key once, at its creation, and lists keys without it", async () => {
    const created = await createKey("ci pipeline", "operator");
    expect(created.key).toMatch(/^dfk_[0-9a-f]{12}_[0-9a-f]{40}$/);
    const list = await extApi("GET", "/api-keys", undefined, ApiKeyList);
    expect(list.body.apiKeys).toContainEqual(
      expect.objectContaining({
        id: created.id,
        name: "ci pipeline",
        role: "operator",
        createdBy: "DAGFLARE_API_TOKEN",
      }),
    );
    expect(JSON.stringify(list.body)).not.toContain(created.key.slice(17));
  });

  it("opens the user API with the key's role", async () => {
    const { key } = await createKey("reader", "viewer");
    const me = await api("GET", "/auth/me", undefined, key);
    expect(me.body).toMatchObject({ user: { username: "reader", role: "viewer" }, credential: "api-key" });
    expect((await api("GET", "/dags", undefined, key)).status).toBe(200);
    expect((await api("POST", "/dags", { name: "by-a-viewer" }, key)).status).toBe(403);
  });

  it("refuses a revoked key at its next call with 401", async () => {
    const { id, key } = await createKey("leaked");
    expect((await api("GET", "/dags", undefined, key)).status).toBe(200);
    const revoked = await extApi("DELETE", `/api-keys/${id}`, undefined, CreateApiKeyResponse.omit({ key: true }));
    expect(revoked.body.revokedAt).toBeDefined();
    const r = await api("GET", "/dags", undefined, key);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ code: "unauthorized", message: `API key ${id} was revoked` });
  });

  it("refuses a key whose secret part is wrong with 401", async () => {
    const { key } = await createKey("guessed");
    const r = await api("GET", "/dags", undefined, `${key.slice(0, -4)}0000`);
    expect(r.status).toBe(401);
  });

  it("answers 404 for revoking an unknown key and 400 for a malformed id", async () => {
    expect((await extApi("DELETE", "/api-keys/0123456789ab", undefined, ApiKeyList)).status).toBe(404);
    const bad = await extApi("DELETE", "/api-keys/nope", undefined, ApiKeyList);
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual({ field: "id" });
  });

  it("refuses a key on the runner endpoints with 403", async () => {
    const { key } = await createKey("wrong door", "admin");
    const r = await runnerApi("/lease", { runnerId: "x", max: 1, waitMs: 0 }, key);
    expect(r.status).toBe(403);
    expect(r.body.message).toBe("a user API key cannot call the runner endpoints");
  });

  it("refuses a runner token on the user API, even on /auth/me", async () => {
    const created = await extApi("POST", "/runner-tokens", { name: "a host" }, CreateRunnerTokenResponse);
    const r = await api("GET", "/auth/me", undefined, created.body.token);
    expect(r.status).toBe(403);
  });

  it("refuses an unknown role with 400 naming the field, creating nothing", async () => {
    const before = (await extApi("GET", "/api-keys", undefined, ApiKeyList)).body.apiKeys.length;
    const r = await extApi("POST", "/api-keys", { name: "x", role: "superuser" }, ApiKeyList);
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["role"]);
    expect((await extApi("GET", "/api-keys", undefined, ApiKeyList)).body.apiKeys.length).toBe(before);
  });

  it(`refuses more than ${MAX_ACTIVE_API_KEYS} keys not revoked, until one is revoked`, async () => {
    const active = (await extApi("GET", "/api-keys", undefined, ApiKeyList)).body.apiKeys.filter(
      (k: { revokedAt?: string }) => !k.revokedAt,
    ).length;
    let last = "";
    for (let i = active; i < MAX_ACTIVE_API_KEYS; i++) last = (await createKey(`bulk ${i}`)).id;
    const refused = await extApi("POST", "/api-keys", { name: "one too many", role: "viewer" }, ApiKeyList);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/already 100 API keys not revoked/);
    await extApi("DELETE", `/api-keys/${last}`, undefined, ApiKeyList.or(CreateApiKeyResponse.omit({ key: true })));
    expect((await extApi("POST", "/api-keys", { name: "now fits", role: "viewer" }, CreateApiKeyResponse)).status).toBe(
      201,
    );
  });
});
