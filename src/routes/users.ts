// /users: the contract's user management (admins only, by the roles table). An admin cannot
// delete their own account or change their own role, so an installation keeps an admin.
import { Hono } from "hono";
import { actorOf } from "../access/authenticate";
import {
  CreateUserRequest,
  createUser,
  deleteUser,
  listUsers,
  mustGetUser,
  present,
  ResetPasswordRequest,
  setPassword,
  UpdateUserRequest,
  updateUser,
} from "../access/users";
import type { Env } from "../env";
import { AppError } from "../errors";
import { dagu } from "../openapi/route-docs";
import { json } from "./validate";

export const usersRoute = new Hono<{ Bindings: Env }>()
  .get("/", dagu("listUsers"), async (c) => c.json({ users: await listUsers(c.env.DB) }))
  .post("/", dagu("createUser"), json(CreateUserRequest), async (c) => {
    return c.json({ user: await createUser(c.env.DB, c.req.valid("json")) }, 201);
  })
  .get("/:userId", dagu("getUser"), async (c) =>
    c.json({ user: present(await mustGetUser(c.env.DB, c.req.param("userId"))) }),
  )
  .patch("/:userId", dagu("updateUser"), json(UpdateUserRequest), async (c) => {
    const id = c.req.param("userId");
    const change = c.req.valid("json");
    const self = actorOf(c);
    if (self.kind === "user" && self.id === id && change.role !== undefined && change.role !== self.role) {
      throw new AppError("forbidden", 403, "you cannot change your own role", { field: "role" });
    }
    return c.json({ user: await updateUser(c.env.DB, id, change) });
  })
  .delete("/:userId", dagu("deleteUser"), async (c) => {
    const id = c.req.param("userId");
    const self = actorOf(c);
    if (self.kind === "user" && self.id === id) throw new AppError("forbidden", 403, "you cannot delete yourself");
    await deleteUser(c.env.DB, id);
    return c.body(null, 204);
  })
  .post("/:userId/reset-password", dagu("resetUserPassword"), json(ResetPasswordRequest), async (c) => {
    const user = await mustGetUser(c.env.DB, c.req.param("userId"));
    await setPassword(c.env.DB, user, c.req.valid("json").newPassword);
    return c.json({ message: `password of ${user.username} reset: every session of this user has ended` });
  });
