// /auth: sign in with a user name and password (no credential needed), who am I, and change my
// own password. The first admin is created at a sign-in while no user exists, from the
// operator's DAGFLARE_ADMIN_PASSWORD secret (README, "Users, roles and API keys").
import { Hono } from "hono";
import { z } from "zod";
import { type Actor, actorOf } from "../access/authenticate";
import { sameSecret } from "../access/digest";
import { spendVerifyTime, verifyPassword } from "../access/passwords";
import { issueSession, sessionSecret } from "../access/sessions";
import { countAttempt, signedIn, signInKeys } from "../access/sign-in-limit";
import {
  ChangePasswordRequest,
  countUsers,
  createUser,
  LoginRequest,
  MIN_PASSWORD_CHARS,
  mustGetUser,
  present,
  setPassword,
  User,
  userByName,
} from "../access/users";
import type { Env } from "../env";
import { AppError } from "../errors";
import { dagu } from "../openapi/route-docs";
import { schema } from "../openapi/zod-schema";
import { json } from "./validate";

/** How the caller of GET /auth/me proved who it is (dagflare's addition to Dagu's answer). */
export const Credential = z.enum(["session", "api-key", "operator-token", "open"]);
export const MeResponse = z.object({
  user: User,
  credential: Credential,
});

const wrongPassword = () => new AppError("unauthorized", 401, "wrong user name or password");

/** POST /auth/login, served without a credential. */
export const authLogin = new Hono<{ Bindings: Env }>().post("/login", dagu("login"), json(LoginRequest), async (c) => {
  const { username, password } = c.req.valid("json");
  sessionSecret(c.env); // a Worker that cannot issue sessions says so before anything else
  // Cloudflare sets the client's address on every request; a local server has none.
  const keys = signInKeys(username, c.req.header("cf-connecting-ip"));
  const retryAfterSec = await countAttempt(c.env.DB, keys);
  if (retryAfterSec !== undefined) {
    c.header("retry-after", String(retryAfterSec));
    throw new AppError("unauthorized", 429, `too many sign-in attempts: try again in ${retryAfterSec} s`, {
      retryAfterSec,
    });
  }
  const user = (await userByName(c.env.DB, username)) ?? (await firstAdmin(c.env, username, password));
  if (!user) {
    await spendVerifyTime(password); // an unknown name takes as long as a wrong password
    throw wrongPassword();
  }
  if (!(await verifyPassword(password, user.passwordHash))) throw wrongPassword();
  await signedIn(c.env.DB, keys);
  const session = await issueSession(c.env, user.id, user.sessionGen);
  return c.json({ ...session, user: present(user) });
});

/** GET /auth/me and POST /auth/change-password, behind the user door. */
export const authSelf = new Hono<{ Bindings: Env }>()
  .get(
    "/me",
    dagu("getCurrentUser", {
      description:
        "dagflare: also answers for API keys, the operator's token and an open Worker (their `user` has the epoch as its dates), and says which in `credential`.",
      responseProperties: { credential: schema(Credential) },
    }),
    async (c) => {
      const actor = actorOf(c);
      if (actor.kind === "user") {
        return c.json({ user: present(await mustGetUser(c.env.DB, actor.id)), credential: "session" as const });
      }
      return c.json({ user: asUser(actor), credential: actor.kind });
    },
  )
  .post("/change-password", dagu("changePassword"), json(ChangePasswordRequest), async (c) => {
    const actor = actorOf(c);
    if (actor.kind !== "user") {
      throw new AppError("bad_request", 400, `${actor.name} is not a user and has no password to change`);
    }
    const { currentPassword, newPassword } = c.req.valid("json");
    const user = await mustGetUser(c.env.DB, actor.id);
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      throw new AppError("unauthorized", 401, "wrong current password", { field: "currentPassword" });
    }
    await setPassword(c.env.DB, user, newPassword);
    return c.json({ message: "password changed: every session of this user has ended, sign in again" });
  });

/** A caller that is not a user, in the contract's User shape (no dates of its own: the epoch). */
function asUser(actor: Exclude<Actor, { kind: "user" }>): User {
  const epoch = new Date(0).toISOString();
  const id = actor.kind === "api-key" ? `api-key:${actor.id}` : actor.kind;
  return { id, username: actor.name, role: actor.role, createdAt: epoch, updatedAt: epoch };
}

/** The first admin, from DAGFLARE_ADMIN_PASSWORD, when it is asked for while no user exists. */
async function firstAdmin(env: Env, username: string, given: string) {
  const password = env.DAGFLARE_ADMIN_PASSWORD;
  if (!password || username !== (env.DAGFLARE_ADMIN_USERNAME || "admin")) return undefined;
  // A wrong guess creates nothing.
  if (!(await sameSecret(given, password))) return undefined;
  if ((await countUsers(env.DB)) > 0) return undefined;
  if (password.length < MIN_PASSWORD_CHARS) {
    throw new AppError(
      "internal_error",
      503,
      `DAGFLARE_ADMIN_PASSWORD is shorter than ${MIN_PASSWORD_CHARS} characters: set a longer one with \`wrangler secret put DAGFLARE_ADMIN_PASSWORD\``,
    );
  }
  try {
    await createUser(env.DB, { username, password, role: "admin" });
  } catch (err) {
    // Two first sign-ins at once: the other one created the admin.
    if (!(err instanceof AppError && err.code === "already_exists")) throw err;
  }
  return userByName(env.DB, username);
}
