// Who did what to a run: the run's details list each start, stop, retry and decision with the
// user, API key or token that made it, and who took a waiting run out of its queue.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CreateApiKeyResponse } from "../../src/access/api-keys";
import { PurgeResponse } from "../../src/routes/queues";
import { scheduleStub } from "../../src/stubs";
import { api, createDag, extApi, startDag } from "./helpers";

const SPEC = "steps:\n  - name: work\n    command: echo work\n";
const PASSWORD = "correct horse battery";

async function actions(name: string, runId: string) {
  const r = await api("GET", `/dag-runs/${name}/${runId}`);
  expect(r.status).toBe(200);
  return (r.body.dagRunDetails.actions ?? []) as Array<Record<string, string>>;
}

async function userSession(username: string, role: string): Promise<string> {
  expect((await api("POST", "/users", { username, password: PASSWORD, role })).status).toBe(201);
  const r = await api("POST", "/auth/login", { username, password: PASSWORD }, null);
  expect(r.status).toBe(200);
  return r.body.token as string;
}

async function apiKey(name: string, role: string): Promise<string> {
  const r = await extApi("POST", "/api-keys", { name, role }, CreateApiKeyResponse);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.key as string;
}

describe("who did what", () => {
  it("shows that the operator's token started a run", async () => {
    await createDag("acted-start", SPEC);
    const runId = await startDag("acted-start");
    expect(await actions("acted-start", runId)).toEqual([
      { action: "start", actor: "DAGFLARE_API_TOKEN", actorKind: "operator-token", at: expect.any(String) },
    ]);
  });

  it("shows the user who stopped a run and the API key that retried it, in order", async () => {
    await createDag("acted-stop", SPEC);
    const runId = await startDag("acted-stop");
    const session = await userSession("olivia", "operator");
    expect((await api("POST", `/dag-runs/acted-stop/${runId}/stop`, undefined, session)).status).toBe(200);
    const key = await apiKey("ci-pipeline", "operator");
    const retried = await api("POST", `/dag-runs/acted-stop/${runId}/retry`, { dagRunId: runId }, key);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect((await actions("acted-stop", runId)).map((a) => [a.action, a.actor, a.actorKind])).toEqual([
      ["start", "DAGFLARE_API_TOKEN", "operator-token"],
      ["stop", "olivia", "user"],
      ["retry", "ci-pipeline", "api-key"],
    ]);
  });

  it("records nothing for a call that was refused", async () => {
    await createDag("acted-refused", SPEC);
    const runId = await startDag("acted-refused");
    const viewer = await userSession("victor", "viewer");
    expect((await api("POST", `/dag-runs/acted-refused/${runId}/stop`, undefined, viewer)).status).toBe(403);
    expect((await actions("acted-refused", runId)).map((a) => a.action)).toEqual(["start"]);
  });

  it("shows that the schedule started a scheduled run", async () => {
    await createDag("acted-cron", `schedule: "*/5 * * * *"\n${SPEC}`);
    expect(await runDurableObjectAlarm(scheduleStub(env, "acted-cron"))).toBe(true);
    const runs = (await api("GET", "/dag-runs/acted-cron")).body.dagRuns as Array<{ dagRunId: string }>;
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect((await actions("acted-cron", run?.dagRunId ?? "")).map((a) => [a.action, a.actor, a.actorKind])).toEqual([
      ["start", "schedule", "system"],
    ]);
  });

  it("shows the user who took a waiting run out of its queue", async () => {
    await createDag("acted-dequeue", `maxActiveRuns: 1\n${SPEC}`);
    await startDag("acted-dequeue");
    const waiting = await startDag("acted-dequeue");
    const session = await userSession("otto", "operator");
    expect((await api("GET", `/dag-runs/acted-dequeue/${waiting}/dequeue`, undefined, session)).status).toBe(200);
    expect((await actions("acted-dequeue", waiting)).map((a) => [a.action, a.actor, a.actorKind])).toEqual([
      ["start", "DAGFLARE_API_TOKEN", "operator-token"],
      ["dequeue", "otto", "user"],
    ]);
  });

  it("shows on each waiting run the API key that purged its queue, and nothing on the running one", async () => {
    await createDag("acted-purge", `maxActiveRuns: 1\n${SPEC}`);
    const running = await startDag("acted-purge");
    const [w1, w2] = [await startDag("acted-purge"), await startDag("acted-purge")];
    const key = await apiKey("queue-janitor", "manager");
    expect((await extApi("POST", "/queues/acted-purge/purge", {}, PurgeResponse, key)).status).toBe(200);
    for (const id of [w1, w2]) {
      expect((await actions("acted-purge", id)).map((a) => [a.action, a.actor, a.actorKind])).toEqual([
        ["start", "DAGFLARE_API_TOKEN", "operator-token"],
        ["purge", "queue-janitor", "api-key"],
      ]);
    }
    expect((await actions("acted-purge", running)).map((a) => a.action)).toEqual(["start"]);
  });
});
