// GET /workers: the runner fleet, in the contract's WorkersListResponse shape.
import { Hono } from "hono";
import { dispatcherFor } from "../dispatch/dispatch-object";
import { presentRunner, type RunnerReport } from "../dispatch/fleet";
import type { Env } from "../env";

export const workers = new Hono<{ Bindings: Env }>().get("/", async (c) => {
  const now = Date.now();
  const reports = (await dispatcherFor(c.env).runners(now)) as RunnerReport[];
  return c.json({ workers: reports.map((r) => presentRunner(r, now)), errors: [] as string[] });
});
