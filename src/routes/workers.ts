// GET /workers: the runner fleet of every pool, in the contract's WorkersListResponse shape.
import { Hono } from "hono";
import { presentRunner, type RunnerReport } from "../dispatch/fleet";
import type { Env } from "../env";
import { dagu } from "../openapi/route-docs";
import { dispatcherFor } from "../stubs";

export const workers = new Hono<{ Bindings: Env }>().get("/", dagu("getWorkers"), async (c) => {
  const now = Date.now();
  // Each pool's dispatcher knows its own runners; the default pool's knows every pool.
  const pools = await dispatcherFor(c.env).pools();
  const perPool = await Promise.all(pools.map((p) => dispatcherFor(c.env, p).runners(now)));
  const reports = (perPool.flat() as RunnerReport[]).sort((a, b) => a.runnerId.localeCompare(b.runnerId));
  return c.json({ workers: reports.map((r) => presentRunner(r, now)), errors: [] as string[] });
});
