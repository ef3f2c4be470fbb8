// POST /auth/login is limited per user name and per client address: five attempts in fifteen
// minutes, then 429 with Retry-After, the same for names that exist and names that do not.
import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SIGN_IN_MAX_ATTEMPTS, SIGN_IN_WINDOW_MS } from "../../src/access/sign-in-limit";
import { db } from "../../src/db/queries";
import { signInAttempts } from "../../src/db/schema";
import { api } from "./helpers";

const PASSWORD = "correct horse battery";
let n = 0;

async function newUser(): Promise<string> {
  const username = `limited${++n}`;
  const r = await api("POST", "/users", { username, password: PASSWORD, role: "viewer" });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return username;
}

async function login(username: string, password: string, address?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (address) headers["cf-connecting-ip"] = address;
  const res = await exports.default.fetch("http://dagflare.test/api/v2/auth/login", {
    method: "POST",
    headers,
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as any };
}

async function failTimes(times: number, username: string, address?: string) {
  for (let i = 0; i < times; i++) expect((await login(username, "a wrong guess", address)).status).toBe(401);
}

describe("the sign-in limit", () => {
  it("answers 429 with Retry-After and the error body after five wrong passwords for a user name", async () => {
    const user = await newUser();
    await failTimes(SIGN_IN_MAX_ATTEMPTS, user);
    const r = await login(user, "a wrong guess");
    expect(r.status).toBe(429);
    expect(Number(r.retryAfter)).toBeGreaterThan(SIGN_IN_WINDOW_MS / 1000 - 60);
    expect(Number(r.retryAfter)).toBeLessThanOrEqual(SIGN_IN_WINDOW_MS / 1000);
    expect(r.body).toMatchObject({ code: "unauthorized", message: expect.stringMatching(/too many sign-in attempts/) });
  });

  it("refuses even the right password while the user name is locked", async () => {
    const user = await newUser();
    await failTimes(SIGN_IN_MAX_ATTEMPTS, user);
    expect((await login(user, PASSWORD)).status).toBe(429);
  });

  it("locks a user name that does not exist exactly as one that does", async () => {
    const known = await newUser();
    await failTimes(SIGN_IN_MAX_ATTEMPTS, known);
    await failTimes(SIGN_IN_MAX_ATTEMPTS, "nobody-by-this-name");
    const a = await login(known, "a wrong guess");
    const b = await login("nobody-by-this-name", "a wrong guess");
    expect([a.status, b.status]).toEqual([429, 429]);
    expect(a.body.message).toBe(b.body.message);
  });

  it("starts a user name afresh after a successful sign-in", async () => {
    const user = await newUser();
    await failTimes(SIGN_IN_MAX_ATTEMPTS - 1, user);
    expect((await login(user, PASSWORD)).status).toBe(200);
    await failTimes(SIGN_IN_MAX_ATTEMPTS - 1, user);
    expect((await login(user, PASSWORD)).status).toBe(200);
  });

  it("does not count a different case of the same user name apart", async () => {
    const user = await newUser();
    await failTimes(SIGN_IN_MAX_ATTEMPTS, user.toUpperCase());
    expect((await login(user, PASSWORD)).status).toBe(429);
  });

  it("limits one client address guessing across many user names, and no other address", async () => {
    const target = await newUser();
    for (let i = 0; i < SIGN_IN_MAX_ATTEMPTS; i++) await failTimes(1, `spray${i}`, "203.0.113.7");
    expect((await login(target, PASSWORD, "203.0.113.7")).status).toBe(429);
    expect((await login(target, PASSWORD, "198.51.100.2")).status).toBe(200);
  });

  it("lets a locked user name sign in again once its window has passed", async () => {
    const user = await newUser();
    await failTimes(SIGN_IN_MAX_ATTEMPTS, user);
    expect((await login(user, PASSWORD)).status).toBe(429);
    // The window opened fifteen minutes ago: as if that time had passed.
    await db(env.DB)
      .update(signInAttempts)
      .set({ windowStartAt: sql`${signInAttempts.windowStartAt} - ${SIGN_IN_WINDOW_MS}` })
      .run();
    expect((await login(user, PASSWORD)).status).toBe(200);
  });
});
