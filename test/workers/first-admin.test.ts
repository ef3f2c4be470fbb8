// The first admin: created from the operator's DAGFLARE_ADMIN_PASSWORD at a sign-in while no
// user exists, and never again. (Its own file: storage is isolated per test file, so no user
// exists here until the first test makes one.)
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";

const operator = { ...env, DAGFLARE_ADMIN_PASSWORD: "the operator's first password" };

async function login(username: string, password: string, e = operator) {
  const res = await app.request(
    "/api/v2/auth/login",
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) },
    e,
  );
  return { status: res.status, body: (await res.json()) as any };
}

describe("the first admin", () => {
  it("is refused a sign-in with the wrong password, and none is created", async () => {
    expect((await login("admin", "a guess at the password")).status).toBe(401);
    const users = await app.request("/api/v2/users", { headers: { authorization: "Bearer test-user-token" } }, env);
    expect(((await users.json()) as any).users).toEqual([]);
  });

  it("signs in as admin with DAGFLARE_ADMIN_PASSWORD while no user exists", async () => {
    const r = await login("admin", "the operator's first password");
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ username: "admin", role: "admin" });
  });

  it("is not created again once a user exists: a changed secret opens nothing", async () => {
    const changed = { ...env, DAGFLARE_ADMIN_PASSWORD: "a second, different password" };
    expect((await login("admin", "a second, different password", changed)).status).toBe(401);
  });

  it("explains a Worker without DAGFLARE_SESSION_SECRET with 503, signing in nobody", async () => {
    const r = await login("admin", "the operator's first password", {
      ...operator,
      DAGFLARE_SESSION_SECRET: undefined,
    });
    expect(r.status).toBe(503);
    expect(r.body.message).toMatch(/^sign-in needs DAGFLARE_SESSION_SECRET/);
  });
});
