// Users: the contract's shapes (User, CreateUserRequest, UpdateUserRequest, ...) and their D1
// reads and writes. A password is stored only as a PBKDF2 hash (passwords.ts); no answer
// carries it.
import { count, eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { z } from "zod";
import { db } from "../db/queries";
import { type UserRow, users } from "../db/schema";
import { AppError } from "../errors";
import { hashPassword } from "./passwords";
import { ROLES, type Role } from "./roles";

/** The contract's bounds on a password's length; the upper one keeps hashing cheap to ask for. */
export const MIN_PASSWORD_CHARS = 8;
export const MAX_PASSWORD_CHARS = 256;
/** The contract's bound on a user name. */
export const MAX_USERNAME_CHARS = 64;
/** Users of one installation: GET /users answers all of them in one page. */
export const MAX_USERS = 1000;

const Username = z
  .string()
  .min(1)
  .max(MAX_USERNAME_CHARS)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]*$/,
    "a user name is letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
  );
const NewPassword = z.string().min(MIN_PASSWORD_CHARS).max(MAX_PASSWORD_CHARS);
const Role_ = z.enum(ROLES);

export const LoginRequest = z.object({
  username: z.string().min(1).max(MAX_USERNAME_CHARS),
  password: z.string().min(1).max(MAX_PASSWORD_CHARS),
});
export const ChangePasswordRequest = z.object({
  currentPassword: z.string().min(1).max(MAX_PASSWORD_CHARS),
  newPassword: NewPassword,
});
export const ResetPasswordRequest = z.object({ newPassword: NewPassword });
export const CreateUserRequest = z.object({ username: Username, password: NewPassword, role: Role_ });
export const UpdateUserRequest = z.object({ username: Username.optional(), role: Role_.optional() });

export const User = z.object({
  id: z.string(),
  username: z.string(),
  role: Role_,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type User = z.infer<typeof User>;

export function present(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    role: r.role as Role,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

export async function listUsers(d1: D1Database): Promise<User[]> {
  return (await db(d1).select().from(users).orderBy(users.username).all()).map(present);
}

export async function countUsers(d1: D1Database): Promise<number> {
  return (await db(d1).select({ n: count() }).from(users).get())?.n ?? 0;
}

export async function userById(d1: D1Database, id: string): Promise<UserRow | undefined> {
  return db(d1).select().from(users).where(eq(users.id, id)).get();
}

export async function userByName(d1: D1Database, username: string): Promise<UserRow | undefined> {
  return db(d1).select().from(users).where(eq(users.username, username)).get();
}

export async function mustGetUser(d1: D1Database, id: string): Promise<UserRow> {
  const row = await userById(d1, id);
  if (!row) throw new AppError("not_found", 404, `user ${id} not found`);
  return row;
}

/** Creates a user; 409 when the name is taken. */
export async function createUser(
  d1: D1Database,
  input: { username: string; password: string; role: Role },
  now = Date.now(),
): Promise<User> {
  if ((await countUsers(d1)) >= MAX_USERS) {
    throw new AppError("bad_request", 400, `there are already ${MAX_USERS} users, the limit`);
  }
  const row: UserRow = {
    id: uuidv7(),
    username: input.username,
    role: input.role,
    passwordHash: await hashPassword(input.password),
    sessionGen: 1,
    createdAt: now,
    updatedAt: now,
  };
  const res = await db(d1).insert(users).values(row).onConflictDoNothing().run();
  if (!res.meta.changes) taken(input.username);
  return present(row);
}

export async function updateUser(
  d1: D1Database,
  id: string,
  change: { username?: string; role?: Role },
  now = Date.now(),
): Promise<User> {
  const row = await mustGetUser(d1, id);
  if (change.username !== undefined && change.username !== row.username) {
    const other = await userByName(d1, change.username);
    if (other) taken(change.username);
  }
  const next = { ...row, ...change, updatedAt: now };
  try {
    await db(d1)
      .update(users)
      .set({ username: next.username, role: next.role, updatedAt: now })
      .where(eq(users.id, id))
      .run();
  } catch (err) {
    // The unique index answers a rename that raced another one to the same name.
    if (String((err as Error).message).includes("UNIQUE")) taken(next.username);
    throw err;
  }
  return present(next);
}

/** Sets a new password and ends every session issued before (the session generation rises). */
export async function setPassword(d1: D1Database, row: UserRow, password: string, now = Date.now()) {
  await db(d1)
    .update(users)
    .set({ passwordHash: await hashPassword(password), sessionGen: row.sessionGen + 1, updatedAt: now })
    .where(eq(users.id, row.id))
    .run();
}

export async function deleteUser(d1: D1Database, id: string): Promise<void> {
  await mustGetUser(d1, id);
  await db(d1).delete(users).where(eq(users.id, id)).run();
}

function taken(username: string): never {
  throw new AppError("already_exists", 409, `user name "${username}" is taken`, { field: "username" });
}
