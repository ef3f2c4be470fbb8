import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PurgeResponse, QueueConfigResponse } from "../../src/routes/queues";
import { api, callCounts, complete, createDag, details, extApi, lease, startDag } from "./helpers";

const ONE_STEP = "steps:\n  - name: work\n    command: echo work\n";
const status = async (name: string, id: string) => (await details(name, id)).statusLabel as string;
const setQueue = (name: string, maxConcurrency: number) =>
  extApi("PUT", `/queues/${name}`, { maxConcurrency }, QueueConfigResponse);

/** Completes every step a runner can lease right now, so no run is left behind. */
async function drain(): Promise<void> {
  for (let ls = await lease(10); ls.length; ls = await lease(10)) for (const l of ls) await complete(l, 0);
}

describe("admission by maxActiveRuns", () => {
  it("runs a DAG with maxActiveRuns 1 started five times one after another, in order", async () => {
    await createDag("serial", `maxActiveRuns: 1\nhistRetentionDays: 30\n${ONE_STEP}`);
    expect((await api("GET", "/dags/serial")).body.dag).toMatchObject({ maxActiveRuns: 1, histRetentionDays: 30 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await startDag("serial"));
    expect(await status("serial", ids[0] as string)).toBe("running");
    for (const id of ids.slice(1)) expect(await status("serial", id)).toBe("queued");
    const waiting = await details("serial", ids[2] as string);
    expect(waiting.waitingFor).toBe("maxActiveRuns 1 of DAG serial reached (1 active); 1 queued ahead of it");

    for (let i = 0; i < 5; i++) {
      const leases = await lease(10);
      // Only the run whose turn it is has work to hand out.
      expect(leases.map((l: { runId: string }) => l.runId)).toEqual([ids[i]]);
      await complete(leases[0], 0);
      expect(await status("serial", ids[i] as string)).toBe("succeeded");
      if (i < 4) expect(await status("serial", ids[i + 1] as string)).toBe("running");
    }
    const runs = await Promise.all(ids.map((id) => details("serial", id)));
    for (let i = 1; i < 5; i++) {
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].finishedAt));
    }
  });

  it("refuses a singleton start with 409 while a run is active", async () => {
    await createDag("single", ONE_STEP);
    await startDag("single");
    const again = await api("POST", "/dags/single/start", { singleton: true });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_exists");
    await drain();
    expect((await api("POST", "/dags/single/start", { singleton: true })).status).toBe(200);
    await drain();
  });
});

describe("named queues", () => {
  it("bounds runs of several DAGs by the queue's maxConcurrency, and admits more when it is raised", async () => {
    expect((await setQueue("shared", 2)).body).toEqual({ name: "shared", maxConcurrency: 2 });
    await createDag("qa", `queue: shared\n${ONE_STEP}`);
    await createDag("qb", `queue: shared\n${ONE_STEP}`);
    const a1 = await startDag("qa");
    const b1 = await startDag("qb");
    const a2 = await startDag("qa");
    expect([await status("qa", a1), await status("qb", b1), await status("qa", a2)]).toEqual([
      "running",
      "running",
      "queued",
    ]);
    expect((await details("qa", a2)).waitingFor).toBe("queue shared at its maxConcurrency 2 (2 active)");

    const q = await api("GET", "/queues");
    const shared = q.body.queues.find((x: { name: string }) => x.name === "shared");
    expect(shared).toMatchObject({ type: "global", maxConcurrency: 2 });
    expect(shared.running.map((r: { dagRunId: string }) => r.dagRunId)).toEqual([a1, b1]);
    expect(shared.queued.map((r: { dagRunId: string }) => r.dagRunId)).toEqual([a2]);
    expect(shared.queued[0].waitingFor).toBe("queue shared at its maxConcurrency 2 (2 active)");
    expect(q.body.summary.totalQueued).toBeGreaterThanOrEqual(1);

    await setQueue("shared", 3);
    expect(await status("qa", a2)).toBe("running");
    await drain();
    expect((await api("GET", "/queues")).body.queues.find((x: { name: string }) => x.name === "shared")).toMatchObject({
      running: [],
      queued: [],
    });
  });

  it("refuses a bad queue configuration and changes nothing", async () => {
    await setQueue("conf", 2);
    const bad = await setQueue("conf", 0);
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields).toContain("maxConcurrency");
    const badName = await setQueue("no%20good", 2);
    expect(badName.status).toBe(400);
    const q = await api("GET", "/queues");
    expect(q.body.queues.find((x: { name: string }) => x.name === "conf").maxConcurrency).toBe(2);
    expect((await extApi("DELETE", "/queues/conf", undefined, z.null())).status).toBe(204);
    expect((await extApi("DELETE", "/queues/conf", undefined, z.null())).status).toBe(404);
    expect((await api("GET", "/queues")).body.queues.map((x: { name: string }) => x.name)).not.toContain("conf");
  });
});

describe("enqueue, dequeue, purge, stop-all, reschedule", () => {
  it("enqueues with Dagu's default of one active run, and dequeues a waiting run as aborted", async () => {
    await createDag("enq", ONE_STEP);
    const first = (await api("POST", "/dags/enq/enqueue", {})).body.dagRunId;
    const second = (await api("POST", "/dags/enq/enqueue", { params: "" })).body.dagRunId;
    expect(await status("enq", first)).toBe("running");
    expect(await status("enq", second)).toBe("queued");

    expect((await api("GET", `/dag-runs/enq/${second}/dequeue`)).status).toBe(200);
    expect(await status("enq", second)).toBe("aborted");
    const again = await api("GET", `/dag-runs/enq/${second}/dequeue`);
    expect(again.status).toBe(400);
    expect(again.body.message).toContain("is not queued");
    await drain();
    expect(await status("enq", first)).toBe("succeeded");
  });

  it("enqueues an inline spec into a named queue", async () => {
    await setQueue("inline", 1);
    const spec = "name: inl\nsteps:\n  - echo inline\n";
    const a = await api("POST", "/dag-runs/enqueue", { spec, queue: "inline" });
    const b = await api("POST", "/dag-runs/enqueue", { spec, queue: "inline" });
    expect(a.status).toBe(200);
    expect(await status("inl", a.body.dagRunId)).toBe("running");
    expect((await details("inl", b.body.dagRunId)).waitingFor).toContain("queue inline at its maxConcurrency 1");
    const bad = await api("POST", "/dag-runs/enqueue", { spec, queue: "not ok" });
    expect(bad.status).toBe(400);
    await drain();
    await drain();
    expect(await status("inl", b.body.dagRunId)).toBe("succeeded");
  });

  it("purges a queue: its waiting runs end aborted, the running one goes on", async () => {
    await createDag("purgy", `maxActiveRuns: 1\n${ONE_STEP}`);
    const [run, w1, w2] = [await startDag("purgy"), await startDag("purgy"), await startDag("purgy")];
    const bad = await extApi("POST", "/queues/bad%20name/purge", {}, PurgeResponse);
    expect(bad.status).toBe(400);
    expect(await status("purgy", w1)).toBe("queued");

    const r = await extApi("POST", "/queues/purgy/purge", {}, PurgeResponse);
    expect(r.body).toEqual({ purged: 2, dagRunIds: [w1, w2] });
    expect([await status("purgy", w1), await status("purgy", w2)]).toEqual(["aborted", "aborted"]);
    expect(await status("purgy", run)).toBe("running");
    await drain();
    expect(await status("purgy", run)).toBe("succeeded");
  });

  it("aborts a deleted DAG's waiting runs; its running run goes on", async () => {
    await createDag("doomed", `maxActiveRuns: 1\n${ONE_STEP}`);
    const [run, waiting] = [await startDag("doomed"), await startDag("doomed")];
    expect((await api("DELETE", "/dags/doomed")).status).toBe(204);
    expect(await status("doomed", waiting)).toBe("aborted");
    expect(await status("doomed", run)).toBe("running");
    await drain();
    expect(await status("doomed", run)).toBe("succeeded");
    expect(await status("doomed", waiting)).toBe("aborted");
  });

  it("stops every running and queued run of a DAG with stop-all", async () => {
    await createDag("halt", `maxActiveRuns: 1\n${ONE_STEP}`);
    const ids = [await startDag("halt"), await startDag("halt")];
    const r = await api("POST", "/dags/halt/stop-all");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ errors: [] });
    expect(await status("halt", ids[1] as string)).toBe("aborted");
    // The running one is cancelled through its runner; here no runner holds it yet.
    expect(await status("halt", ids[0] as string)).toBe("aborted");
    expect(await lease(10)).toEqual([]);
  });

  it("reschedules a historic run with its parameters under a new run id", async () => {
    await createDag("again", 'params: "X=1"\nmaxActiveRuns: 1\nsteps:\n  - echo $X\n');
    const old = await startDag("again", { params: "X=42" });
    const r = await api("POST", `/dag-runs/again/${old}/reschedule`, { dagRunId: "again-2" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ dagRunId: "again-2", queued: true });
    const [first] = await lease();
    expect(first.runId).toBe(old);
    await complete(first, 0);
    const [l] = await lease();
    expect(l.runId).toBe("again-2");
    expect(l.exec.env.X).toBe("42");
    await complete(l, 0);
    const taken = await api("POST", `/dag-runs/again/${old}/reschedule`, { dagRunId: "again-2" });
    expect(taken.status).toBe(409);
  });
});

describe("the OpenAPI document", () => {
  it("describes the queue endpoints dagflare adds, from their schemas", async () => {
    const res = await exports.default.fetch("http://dagflare.test/api/v2/openapi.json");
    const doc = (await res.json()) as any;
    const put = doc.paths["/queues/{name}"].put;
    expect(put.requestBody.content["application/json"].schema.properties.maxConcurrency).toMatchObject({
      type: "integer",
      minimum: 1,
    });
    expect(doc.paths["/queues/{name}/purge"].post.responses["200"].content["application/json"].schema.required).toEqual(
      ["purged", "dagRunIds"],
    );
  });
});

describe("the admission object's load", () => {
  it("never hears of a run of a DAG without limits, from its start to its end", async () => {
    await createDag("unbounded", ONE_STEP);
    const was = await callCounts();
    const id = await startDag("unbounded");
    await drain();
    expect(await status("unbounded", id)).toBe("succeeded");
    const now = await callCounts();
    // Counted as any call is: the run's own object was started once.
    expect(now("RUNS.start") - was("RUNS.start")).toBe(1);
    for (const call of ["QUEUES.submit", "QUEUES.finished"]) expect(now(call) - was(call), call).toBe(0);
  });

  it("admits each of many concurrent starts of a limited DAG once, never more than its limit at a time", async () => {
    await createDag("burst", `maxActiveRuns: 2\n${ONE_STEP}`);
    const was = await callCounts();
    const ids = await Promise.all(Array.from({ length: 8 }, () => startDag("burst")));
    const statuses = async () => Promise.all(ids.map((id) => status("burst", id)));
    expect((await statuses()).filter((s) => s === "running")).toHaveLength(2);
    expect((await callCounts())("RUNS.admit") - was("RUNS.admit")).toBe(2);
    for (let done = 0; done < 8; done++) {
      const [l] = await lease(1);
      await complete(l, 0);
      expect((await statuses()).filter((s) => s === "running").length).toBeLessThanOrEqual(2);
    }
    expect(await statuses()).toEqual(Array(8).fill("succeeded"));
    const now = await callCounts();
    expect(now("RUNS.admit") - was("RUNS.admit")).toBe(8);
    expect(now("QUEUES.submit") - was("QUEUES.submit")).toBe(8);
  });
});
