// The contract's auth and user operations: sign-in, who am I, own password, and an admin's
// user management; sessions that end when a password changes.
import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { issueSession } from "../../src/access/sessions";
import { api } from "./helpers";

let n = 0;
/** A user created by the operator's token (an admin), with a fresh name. */
async function newUser(role: string, password = "correct horse battery") {
  const username = `user${++n}-${role}`;
  const r = await api("POST", "/users", { username, password, role });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { ...(r.body.user as { id: string; username: string; role: string }), password };
}

async function login(username: string, password: string) {
  return api("POST", "/auth/login", { username, password }, null);
}

async function session(username: string, password: string): Promise<string> {
  const r = await login(username, password);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.token;
}

describe("signing in", () => {
  it("answers a token, its expiry and the user for the right password", async () => {
    const u = await newUser("operator");
    const r = await login(u.username, u.password);
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ id: u.id, username: u.username, role: "operator" });
    expect(Date.parse(r.body.expiresAt) - Date.now()).toBeGreaterThan(11 * 3600_000);
    expect(JSON.stringify(r.body)).not.toMatch(/pbkdf2|password/i);
  });

  it("refuses a wrong password and an unknown user alike, with 401", async () => {
    const u = await newUser("viewer");
    const wrong = await login(u.username, "not the password");
    const unknown = await login("nobody-here", "not the password");
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ code: "unauthorized", message: "wrong user name or password" });
    }
  });

  it("refuses a body without a password, naming the field", async () => {
    const r = await api("POST", "/auth/login", { username: "x" }, null);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("bad_request");
    expect(r.body.details.fields).toEqual(["password"]);
  });

  it("tells who is signed in, with the role, through GET /auth/me", async () => {
    const u = await newUser("developer");
    const r = await api("GET", "/auth/me", undefined, await session(u.username, u.password));
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ id: u.id, username: u.username, role: "developer" });
    expect(r.body.credential).toBe("session");
  });

  it("answers /auth/me for the operator's token as an admin", async () => {
    const r = await api("GET", "/auth/me");
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ username: "DAGFLARE_API_TOKEN", role: "admin" });
    expect(r.body.credential).toBe("operator-token");
  });

  it("refuses an expired session with 401", async () => {
    const u = await newUser("viewer");
    const old = await issueSession(env, u.id, 1, Date.now() - 24 * 3600_000);
    const r = await api("GET", "/auth/me", undefined, old.token);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ code: "unauthorized", message: "session expired: sign in again" });
  });

  it("refuses a session signed with another secret with 401", async () => {
    const u = await newUser("admin");
    const forged = await sign(
      { sub: u.id, gen: 1, exp: Math.floor(Date.now() / 1000) + 3600 },
      "some-other-secret-of-at-least-32-characters",
      "HS256",
    );
    const r = await api("GET", "/users", undefined, forged);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ code: "unauthorized", message: "invalid session token" });
  });
});

describe("changing one's own password", () => {
  it("ends the older sessions and lets the new password in", async () => {
    const u = await newUser("viewer");
    const before = await session(u.username, u.password);
    const r = await api(
      "POST",
      "/auth/change-password",
      { currentPassword: u.password, newPassword: "a much better passphrase" },
      before,
    );
    expect(r.status).toBe(200);
    expect((await api("GET", "/auth/me", undefined, before)).status).toBe(401);
    expect((await login(u.username, u.password)).status).toBe(401);
    expect((await login(u.username, "a much better passphrase")).status).toBe(200);
  });

  it("refuses a wrong current password with 401 and keeps the old one", async () => {
    const u = await newUser("viewer");
    const token = await session(u.username, u.password);
    const r = await api(
      "POST",
      "/auth/change-password",
      { currentPassword: "wrong", newPassword: "whatever123" },
      token,
    );
    expect(r.status).toBe(401);
    expect(r.body.details).toEqual({ field: "currentPassword" });
    expect((await api("GET", "/auth/me", undefined, token)).status).toBe(200);
  });

  it("refuses a new password shorter than 8 characters with 400", async () => {
    const u = await newUser("viewer");
    const token = await session(u.username, u.password);
    const r = await api("POST", "/auth/change-password", { currentPassword: u.password, newPassword: "short" }, token);
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["newPassword"]);
  });
});

describe("user management", () => {
  it("lists users without any password hash", async () => {
    const u = await newUser("manager");
    const r = await api("GET", "/users");
    expect(r.status).toBe(200);
    expect(r.body.users).toContainEqual(expect.objectContaining({ id: u.id, role: "manager" }));
    expect(JSON.stringify(r.body)).not.toMatch(/pbkdf2|hash/i);
  });

  it("refuses a second user with a taken name with 409", async () => {
    const u = await newUser("viewer");
    const r = await api("POST", "/users", { username: u.username, password: "another password", role: "admin" });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe("already_exists");
  });

  it("refuses an unknown role with 400 naming the field", async () => {
    const r = await api("POST", "/users", { username: "someone", password: "long enough", role: "root" });
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["role"]);
    expect((await api("GET", "/users")).body.users.map((x: any) => x.username)).not.toContain("someone");
  });

  it("gets one user, and answers 404 for an unknown id", async () => {
    const u = await newUser("operator");
    expect((await api("GET", `/users/${u.id}`)).body.user.username).toBe(u.username);
    expect((await api("GET", "/users/no-such-user")).status).toBe(404);
  });

  it("changes a user's role, effective at the user's next call", async () => {
    const u = await newUser("viewer");
    const token = await session(u.username, u.password);
    expect((await api("GET", "/users", undefined, token)).status).toBe(403);
    const r = await api("PATCH", `/users/${u.id}`, { role: "admin" });
    expect(r.status).toBe(200);
    expect(r.body.user.role).toBe("admin");
    expect((await api("GET", "/users", undefined, token)).status).toBe(200);
  });

  it("renames a user, and refuses a name another user has with 409", async () => {
    const a = await newUser("viewer");
    const b = await newUser("viewer");
    expect((await api("PATCH", `/users/${a.id}`, { username: `${a.username}-renamed` })).body.user.username).toBe(
      `${a.username}-renamed`,
    );
    expect((await api("PATCH", `/users/${a.id}`, { username: b.username })).status).toBe(409);
  });

  it("resets a password: the user's sessions end and the new password works", async () => {
    const u = await newUser("operator");
    const token = await session(u.username, u.password);
    const r = await api("POST", `/users/${u.id}/reset-password`, { newPassword: "set by the admin" });
    expect(r.status).toBe(200);
    expect((await api("GET", "/auth/me", undefined, token)).status).toBe(401);
    expect((await login(u.username, "set by the admin")).status).toBe(200);
  });

  it("deletes a user with 204: the user's session stops working", async () => {
    const u = await newUser("viewer");
    const token = await session(u.username, u.password);
    expect((await api("DELETE", `/users/${u.id}`)).status).toBe(204);
    expect((await api("GET", `/users/${u.id}`)).status).toBe(404);
    expect((await api("GET", "/auth/me", undefined, token)).status).toBe(401);
  });

  it("refuses an admin deleting themselves, or changing their own role, with 403", async () => {
    const u = await newUser("admin");
    const token = await session(u.username, u.password);
    expect((await api("DELETE", `/users/${u.id}`, undefined, token)).status).toBe(403);
    expect((await api("PATCH", `/users/${u.id}`, { role: "viewer" }, token)).status).toBe(403);
    expect((await api("GET", `/users/${u.id}`)).body.user.role).toBe("admin");
  });
});
