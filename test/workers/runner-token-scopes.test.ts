// A runner token against the rest of the fleet: it leases, registers and reports only in the
// pools it was created for, under runner ids of its own; a revoked token's waiting poll gets
// nothing.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DispatchObject } from "../../src/dispatch/dispatch-object";
import { CreateRunnerTokenResponse, RunnerTokenInfo } from "../../src/runner-tokens";
import { dispatcherFor } from "../../src/stubs";
import { api, complete, createDag, extApi, runnerApi, startDag } from "./helpers";

async function newToken(name: string, pools?: string[]): Promise<{ id: string; token: string; pools: string[] }> {
  const r = await extApi("POST", "/runner-tokens", { name, ...(pools && { pools }) }, CreateRunnerTokenResponse);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const leaseIn = (pool: string, token: string, runnerId = `${pool}-runner`, waitMs = 0) =>
  runnerApi("/lease", { runnerId, labels: { pool }, max: 1, waitMs }, token);
const report = (runnerId: string, pool: string, token?: string, labels: Record<string, string> = {}) =>
  runnerApi("/heartbeat", { runnerId, labels: { pool, ...labels }, totalSlots: 1 }, token);

describe("runner tokens scoped to pools", () => {
  it("are created for the default pool unless pools are named, and list their pools", async () => {
    expect((await newToken("plain")).pools).toEqual(["default"]);
    expect((await newToken("two teams", ["team-b", "team-a", "team-a"])).pools).toEqual(["team-a", "team-b"]);
  });

  it("lease the steps of their own pools only", async () => {
    await createDag("scoped-a", "workerSelector: {pool: team-a}\nsteps:\n  - echo a\n");
    await createDag("scoped-b", "workerSelector: {pool: team-b}\nsteps:\n  - echo b\n");
    const { id, token } = await newToken("team a", ["team-a"]);
    await startDag("scoped-a");
    await startDag("scoped-b");
    const refused = await leaseIn("team-b", token);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: "forbidden",
      message: `runner token ${id} serves the pools team-a, not "team-b"`,
      details: { fields: ["labels.pool"] },
    });
    const mine = await leaseIn("team-a", token);
    expect(mine.status).toBe(200);
    expect(mine.body.leases.map((l: { dagName: string }) => l.dagName)).toEqual(["scoped-a"]);
    // The refused request took nothing: team b's step is still there for team b.
    const { token: teamB } = await newToken("team b", ["team-b"]);
    expect((await leaseIn("team-b", teamB)).body.leases.map((l: { dagName: string }) => l.dagName)).toEqual([
      "scoped-b",
    ]);
  });

  it("register only in their own pools", async () => {
    const { token } = await newToken("default only");
    const r = await report("wanders", "team-c", token);
    expect(r.status).toBe(403);
    const fleet = await api("GET", "/workers");
    expect(JSON.stringify(fleet.body)).not.toContain("wanders");
  });

  it("cannot ask for the next lease in another pool on a completion", async () => {
    await createDag("scoped-next", "steps:\n  - echo one\n");
    const { token } = await newToken("default runner");
    await startDag("scoped-next");
    const [l] = (await leaseIn("default", token)).body.leases;
    const r = await runnerApi(
      `/leases/${l.leaseId}/complete`,
      { token: l.token, exitCode: 0, next: { runnerId: "x", labels: { pool: "team-a" }, max: 1 } },
      token,
    );
    expect(r.status).toBe(403);
    expect((await complete(l, 0)).body.accepted).toBe(true);
  });

  it("cannot overwrite or lease as a live runner that reports with another token", async () => {
    expect((await report("victim", "default", undefined, { os: "linux" })).status).toBe(200);
    const { token } = await newToken("impostor");
    const taken = await report("victim", "default", token, { os: "evil" });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({
      code: "already_exists",
      message: 'runner id "victim" belongs to a live runner that reports with another token',
    });
    expect((await leaseIn("default", token, "victim")).status).toBe(409);
    const fleet = await api("GET", "/workers");
    const victim = fleet.body.workers.find((w: { id: string }) => w.id === "victim");
    expect(victim.labels).toEqual({ pool: "default", os: "linux" });
  });

  it("keep the bootstrap token serving every pool", async () => {
    expect((await leaseIn("any-pool-at-all", env.DAGFLARE_RUNNER_TOKEN ?? "")).status).toBe(200);
  });

  it("refuse bad pools at creation, naming the field", async () => {
    for (const pools of [[], ["a b"], ["x".repeat(65)], "team-a"]) {
      const r = await extApi("POST", "/runner-tokens", { name: "bad", pools }, RunnerTokenInfo);
      expect(r.status, JSON.stringify(pools)).toBe(400);
      expect(r.body.details.fields[0]).toMatch(/^pools/);
    }
  });
});

describe("a revoked token's long poll", () => {
  it("receives no lease after the revocation: the step goes to another runner, attempt 1", async () => {
    await createDag("revoked-poll", "workerSelector: {pool: slow-pool}\nsteps:\n  - echo hi\n");
    const { id, token } = await newToken("revoked while waiting", ["slow-pool"]);
    const poll = leaseIn("slow-pool", token, "poller", 20_000);
    // The poll is waiting in its pool's dispatcher before the token is revoked.
    const dispatcher = dispatcherFor(env, "slow-pool");
    const waiting = () =>
      runInDurableObject(dispatcher, (o: DispatchObject) => (o as unknown as { waiters: Set<unknown> }).waiters.size);
    while ((await waiting()) === 0) await new Promise((r) => setTimeout(r, 10));
    expect((await extApi("DELETE", `/runner-tokens/${id}`, undefined, RunnerTokenInfo)).status).toBe(200);
    await startDag("revoked-poll");
    const r = await poll;
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ code: "unauthorized", message: `runner token ${id} was revoked` });
    const [l] = (await leaseIn("slow-pool", env.DAGFLARE_RUNNER_TOKEN ?? "", "honest")).body.leases;
    expect(l).toMatchObject({ dagName: "revoked-poll", attempt: 1 });
  });
});
