import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { CreateRunnerTokenResponse, RunnerTokenInfo } from "../../src/runner-tokens";
import { api, callCounts, createDag, details, extApi, nodeOf, RUNNER_TOKEN, startDag } from "./helpers";

const CHAIN = `steps:
  - name: first
    command: echo first
  - name: second
    command: echo second
`;

/** Three steps that wait for nothing, in a pool of their own so other tests' tasks stay out of its queue. */
const WIDE = (pool: string) => `type: graph
workerSelector: {pool: ${pool}}
steps:
  - name: a
    command: "true"
  - name: b
    command: "true"
  - name: c
    command: "true"
`;

const open: WebSocket[] = [];
const runs: Array<[string, string]> = [];
// Runs of this file share one dispatcher: each test stops its run, so the next one leases its own steps.
afterEach(async () => {
  for (const ws of open.splice(0)) ws.close();
  for (const [name, runId] of runs.splice(0)) await api("POST", `/dag-runs/${name}/${runId}/stop`);
});

interface RunnerSocket {
  ws: WebSocket;
  /** Sends a call and resolves with its answer ({id, status, body}). */
  call(path: string, body: unknown): Promise<{ status: number; body: any }>;
  closed: Promise<{ code: number; reason: string }>;
}

async function connect(runnerId: string, token = RUNNER_TOKEN, labels: Record<string, string> = {}) {
  const query = new URLSearchParams({ runnerId, labels: JSON.stringify(labels) });
  const res = await exports.default.fetch(`http://dagflare.test/api/v2/runners/socket?${query}`, {
    headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
  });
  return res;
}

async function openSocket(
  runnerId: string,
  token = RUNNER_TOKEN,
  labels: Record<string, string> = {},
): Promise<RunnerSocket> {
  const res = await connect(runnerId, token, labels);
  if (res.status !== 101) expect.fail(`socket refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket;
  if (!ws) throw new Error("no socket in the answer");
  ws.accept();
  open.push(ws);
  const waiting = new Map<number, (m: any) => void>();
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data as string);
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
  );
  let nextId = 1;
  return {
    ws,
    closed,
    call(path, body) {
      const id = nextId++;
      const answer = new Promise<any>((resolve) => waiting.set(id, resolve));
      ws.send(JSON.stringify({ id, path, body }));
      return answer;
    },
  };
}

async function start(name: string, spec: string): Promise<string> {
  await createDag(name, spec);
  const runId = await startDag(name);
  runs.push([name, runId]);
  return runId;
}

describe("the runner's socket", () => {
  it("pushes a lease to a runner waiting on its socket as soon as a run starts", async () => {
    const s = await openSocket("sock-push");
    const asked = s.call("/lease", { runnerId: "sock-push", max: 1 });
    await start("sock-push", CHAIN);
    const reply = await asked;
    expect(reply.status).toBe(200);
    expect(reply.body.leases.map((l: any) => l.stepName)).toEqual(["first"]);
  });

  it("fences a completion sent over the socket like one over HTTP, and hands the next step over with it", async () => {
    const s = await openSocket("sock-fence");
    const asked = s.call("/lease", { runnerId: "sock-fence", max: 1 });
    const runId = await start("sock-fence", CHAIN);
    const [first] = (await asked).body.leases;
    const path = `/leases/${first.leaseId}/complete`;

    const forged = await s.call(path, { token: "not-the-token", exitCode: 0 });
    expect(forged.status).toBe(409);
    expect(forged.body.code).toBe("not_running");

    const next = { runnerId: "sock-fence", labels: {}, max: 1 };
    const done = await s.call(path, { token: first.token, exitCode: 0, next });
    expect(done.status).toBe(200);
    expect(done.body.accepted).toBe(true);
    expect(done.body.next.map((l: any) => l.stepName)).toEqual(["second"]);
    expect(nodeOf(await details("sock-fence", runId), "first").status).toBe(4);
  });

  it("hands a wide run's next waiting step over with a completion, claimed in the completion's own call to the run", async () => {
    const labels = { pool: "along" };
    const s = await openSocket("sock-along", RUNNER_TOKEN, labels);
    const asked = s.call("/lease", { runnerId: "sock-along", labels, max: 1 });
    await start("sock-along", WIDE("along"));
    const [first] = (await asked).body.leases;
    expect(first.stepName).toBe("a");

    const was = await callCounts();
    const next = { runnerId: "sock-along", labels, max: 1 };
    const done = await s.call(`/leases/${first.leaseId}/complete`, { token: first.token, exitCode: 0, next });
    const now = await callCounts();
    expect(done.body.next.map((l: any) => l.stepName)).toEqual(["b"]);
    expect(now("RUNS.complete") - was("RUNS.complete")).toBe(1);
    expect(now("RUNS.claimMany") - was("RUNS.claimMany")).toBe(0);
  });

  it("hands the pool's oldest waiting step over with a completion even when it belongs to another run", async () => {
    const labels = { pool: "fifo" };
    const s = await openSocket("sock-fifo", RUNNER_TOKEN, labels);
    const asked = s.call("/lease", { runnerId: "sock-fifo", labels, max: 3 });
    await start("sock-fifo-first", WIDE("fifo"));
    const leased = (await asked).body.leases;
    expect(leased).toHaveLength(3);
    const waitingRun = await start("sock-fifo-second", WIDE("fifo"));

    const [first] = leased;
    const next = { runnerId: "sock-fifo", labels, max: 1 };
    const done = await s.call(`/leases/${first.leaseId}/complete`, { token: first.token, exitCode: 0, next });
    expect(done.body.next.map((l: any) => [l.runId, l.stepName])).toEqual([[waitingRun, "a"]]);
  });

  it("keeps the waiting steps for the next request when a completion over the socket is refused", async () => {
    const labels = { pool: "refused" };
    const s = await openSocket("sock-refused", RUNNER_TOKEN, labels);
    const asked = s.call("/lease", { runnerId: "sock-refused", labels, max: 1 });
    await start("sock-refused", WIDE("refused"));
    const [first] = (await asked).body.leases;

    const next = { runnerId: "sock-refused", labels, max: 2 };
    const forged = await s.call(`/leases/${first.leaseId}/complete`, { token: "not-the-token", exitCode: 0, next });
    expect(forged.status).toBe(409);
    const again = await s.call("/lease", { runnerId: "sock-refused", labels, max: 2 });
    expect(again.body.leases.map((l: any) => l.stepName)).toEqual(["b", "c"]);
  });

  it("answers a malformed completion over the socket with 400 naming the field, and records nothing", async () => {
    const s = await openSocket("sock-bad");
    const asked = s.call("/lease", { runnerId: "sock-bad", max: 1 });
    const runId = await start("sock-bad", CHAIN);
    const [first] = (await asked).body.leases;
    const bad = await s.call(`/leases/${first.leaseId}/complete`, { token: first.token, exitCode: "zero" });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields).toEqual(["exitCode"]);
    expect(nodeOf(await details("sock-bad", runId), "first").status).toBe(1);
  });

  it("refuses a socket without a valid runner token", async () => {
    const res = await connect("sock-nobody", "not-a-token");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthorized" });
  });

  it("closes the sockets of a runner token when it is revoked", async () => {
    const created = await extApi("POST", "/runner-tokens", { name: "socket-host" }, CreateRunnerTokenResponse);
    expect(created.status).toBe(201);
    const s = await openSocket("sock-revoked", created.body.token);
    const revoked = await extApi("DELETE", `/runner-tokens/${created.body.id}`, undefined, RunnerTokenInfo);
    expect(revoked.status).toBe(200);
    expect((await s.closed).code).toBe(4401);
  });

  it("hands a chain's next step over with a completion without reading the pool's queue once it was found empty", async () => {
    const labels = { pool: "chain-empty" };
    const spec = `workerSelector: {pool: chain-empty}\nsteps:\n  - name: a\n    command: "true"\n  - name: b\n    command: "true"\n  - name: c\n    command: "true"\n`;
    const s = await openSocket("sock-empty", RUNNER_TOKEN, labels);
    const asked = s.call("/lease", { runnerId: "sock-empty", labels, max: 1 });
    const runId = await start("chain-empty", spec);
    const [a] = (await asked).body.leases;
    const next = { runnerId: "sock-empty", labels, max: 1 };
    // The first completion finds the queue empty; the second does not look again.
    const [b] = (await s.call(`/leases/${a.leaseId}/complete`, { token: a.token, exitCode: 0, next })).body.next;
    const was = await callCounts();
    const done = await s.call(`/leases/${b.leaseId}/complete`, { token: b.token, exitCode: 0, next });
    const now = await callCounts();
    expect(done.body.next.map((l: any) => l.stepName)).toEqual(["c"]);
    expect(now("SQL.DispatchObject.select.tasks") - was("SQL.DispatchObject.select.tasks")).toBe(0);
    expect(nodeOf(await details("chain-empty", runId), "b").statusLabel).toBe("succeeded");
  });

  it("hands over a step queued after the pool's queue was found empty", async () => {
    const labels = { pool: "empty-then-not" };
    const spec = (name: string) =>
      `workerSelector: {pool: empty-then-not}\nsteps:\n  - name: ${name}\n    command: "true"\n`;
    const s = await openSocket("sock-refill", RUNNER_TOKEN, labels);
    const asked = s.call("/lease", { runnerId: "sock-refill", labels, max: 1 });
    await start("refill-one", spec("one"));
    const [one] = (await asked).body.leases;
    const next = { runnerId: "sock-refill", labels, max: 1 };
    const done = await s.call(`/leases/${one.leaseId}/complete`, { token: one.token, exitCode: 0, next });
    expect(done.body.next).toEqual([]);
    // The queue was just found empty; a step queued now is still handed to the next request.
    const again = s.call("/lease", { runnerId: "sock-refill", labels, max: 1 });
    await start("refill-two", spec("two"));
    expect((await again).body.leases.map((l: any) => l.stepName)).toEqual(["two"]);
  });
});
