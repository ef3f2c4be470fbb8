import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CleanupResponse } from "../../src/routes/dag-runs";
import { mailStub, runStub } from "../../src/stubs";
import { api, complete, createDag, extApi, lease, startDag } from "./helpers";

const cleanup = (body: unknown) => extApi("POST", "/dag-runs/cleanup", body, CleanupResponse);

describe("POST /dag-runs/cleanup", () => {
  it("removes finished runs with their Durable Object storage and never a running one", async () => {
    await createDag("old", "steps:\n  - echo\n");
    const done = await startDag("old");
    const [l] = await lease();
    await complete(l, 0);
    const running = await startDag("old");

    const dry = await cleanup({ olderThanDays: 0, dryRun: true });
    expect(dry.body).toMatchObject({ removed: 0, dagRunIds: [done], dryRun: true });
    expect((await api("GET", `/dag-runs/old/${done}`)).status).toBe(200);

    const r = await cleanup({ olderThanDays: 0 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ removed: 1, dagRunIds: [done] });
    expect((await api("GET", `/dag-runs/old/${done}`)).status).toBe(404);
    const stub = runStub(env, done);
    expect((await stub.snapshot()).ok).toBe(false);
    expect((await api("GET", `/dag-runs/old/${running}`)).body.dagRunDetails.statusLabel).toBe("running");
    const [l2] = await lease();
    await complete(l2, 0);
  });

  it("removes a run's mail, unsent or not, and its record of who did what", async () => {
    // No SMTP server is configured here: the mail stays pending, retried, until it is removed.
    await createDag("mailed", "mailOn: { failure: true }\nerrorMail: { to: [ops@example.test] }\nsteps:\n  - echo\n");
    const id = await startDag("mailed");
    const [l] = await lease();
    await complete(l, 1);
    expect((await mailStub(env, id).list()).map((m) => m.status)).toEqual(["pending"]);

    expect((await cleanup({ olderThanDays: 0 })).body.dagRunIds).toContain(id);

    expect(await mailStub(env, id).list()).toEqual([]);
    const actions = await env.DB.prepare("SELECT count(*) AS n FROM run_actions WHERE run_id = ?").bind(id).first();
    expect(actions?.n).toBe(0);
  });

  it("keeps runs younger than the age given", async () => {
    await createDag("young", "steps:\n  - echo\n");
    const id = await startDag("young");
    const [l] = await lease();
    await complete(l, 0);
    const r = await cleanup({ olderThanDays: 1 });
    expect(r.body.dagRunIds).not.toContain(id);
    expect((await api("GET", `/dag-runs/young/${id}`)).status).toBe(200);
  });

  it("refuses a bad age and changes nothing", async () => {
    const r = await cleanup({ olderThanDays: -1 });
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toContain("olderThanDays");
  });
});
