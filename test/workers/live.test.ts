import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { api, complete, createDag, details, fireRunAlarm, lease, runnerApi, startDag, USER_TOKEN } from "./helpers";

const CHAIN = `steps:
  - name: first
    command: echo first
  - name: second
    command: echo second
  - name: third
    command: echo third
handlerOn:
  success:
    command: echo done
`;

const open: WebSocket[] = [];
const runs: Array<[string, string]> = [];
// Runs of this file share one dispatcher: each test stops its run, so the next one leases its own steps.
afterEach(async () => {
  for (const ws of open.splice(0)) ws.close();
  for (const [name, runId] of runs.splice(0)) await api("POST", `/dag-runs/${name}/${runId}/stop`);
});

async function start(name: string, spec: string): Promise<string> {
  await createDag(name, spec);
  const runId = await startDag(name);
  runs.push([name, runId]);
  return runId;
}

interface Socket {
  ws: WebSocket;
  /** Resolves with the first message (from the start of the socket, each taken once) that matches. */
  next(match: (m: any) => boolean): Promise<any>;
}

function request(path: string, headers: Record<string, string>) {
  return exports.default.fetch(`http://dagflare.test/api/v2${path}`, { headers });
}

async function connect(path: string, protocols = `dagflare.v1, bearer.${USER_TOKEN}`): Promise<Socket> {
  const res = await request(path, { upgrade: "websocket", "sec-websocket-protocol": protocols });
  expect(res.status).toBe(101);
  expect(res.headers.get("sec-websocket-protocol")).toBe("dagflare.v1");
  const ws = res.webSocket;
  if (!ws) throw new Error("no socket in the answer");
  ws.accept();
  open.push(ws);
  const seen: any[] = [];
  const waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void }> = [];
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data as string);
    const w = waiters.findIndex((x) => x.match(m));
    if (w === -1) seen.push(m);
    else waiters.splice(w, 1)[0]?.resolve(m);
  });
  return {
    ws,
    next: (match) =>
      new Promise((resolve) => {
        const i = seen.findIndex(match);
        if (i !== -1) resolve(seen.splice(i, 1)[0]);
        else waiters.push({ match, resolve });
      }),
  };
}

/** This run's leases (the stopped runs of earlier tests may still be in the dispatcher's line). */
async function leaseOf(runId: string) {
  return (await lease(10)).filter((l) => l.runId === runId);
}

/** The id of the sub-DAG run a run's call step started (its step is in the dispatcher's line). */
async function childOf(runId: string): Promise<string> {
  const d = await details("live-parent", runId);
  const node = d.nodes.find((n: any) => n.step.name === "call-child");
  const id = node?.subRuns?.[0]?.dagRunId;
  if (!id) throw new Error("the call step started no sub-DAG run");
  return id;
}

const isType = (type: string) => (m: { type: string }) => m.type === type;

describe("the live socket of a run", () => {
  it("sends the run's details at connect as GET /dag-runs/{name}/{id} shows them, but for who did what", async () => {
    const runId = await start("live-details", CHAIN);
    const socket = await connect(`/dag-runs/live-details/${runId}/live`);
    const first = await socket.next(isType("details"));
    // `actions` is read from D1 by GET alone (the UI fetches it when the run's status changes),
    // so that a push never waits on a D1 read.
    const { actions, ...rest } = await details("live-details", runId);
    expect(actions).toEqual([expect.objectContaining({ action: "start" })]);
    expect(first.dagRunDetails).toEqual(rest);
  });

  it("works with latest as the run id", async () => {
    const runId = await start("live-latest", CHAIN);
    const socket = await connect("/dag-runs/live-latest/latest/live");
    expect((await socket.next(isType("details"))).dagRunDetails.dagRunId).toBe(runId);
  });

  it("pushes a patch with only the changed nodes when a runner completes a step", async () => {
    const runId = await start("live-patch", CHAIN);
    const socket = await connect(`/dag-runs/live-patch/${runId}/live`);
    await socket.next(isType("details"));
    const [first] = await leaseOf(runId);
    await complete(first, 0);
    const patch = await socket.next(
      (m) => m.type === "patch" && m.nodes.some((n: any) => n.step.name === "first" && n.statusLabel === "succeeded"),
    );
    expect(patch.run).toMatchObject({ dagRunId: runId, statusLabel: "running" });
    expect(patch.run.nodes).toBeUndefined();
    const names = patch.nodes.map((n: any) => n.step.name);
    expect(names).not.toContain("third");
    const now = await details("live-patch", runId);
    expect(patch.nodes.find((n: any) => n.step.name === "first")).toEqual(
      now.nodes.find((n: any) => n.step.name === "first"),
    );
  });

  it("sends a parallel step's node, its instances under it, when one of its instances changes", async () => {
    const runId = await start(
      "live-parallel",
      "steps:\n  - name: fan\n    command: echo $ITEM\n    parallel: [a, b]\n",
    );
    const socket = await connect(`/dag-runs/live-parallel/${runId}/live`);
    await socket.next(isType("details"));
    const leases = await leaseOf(runId);
    const one = leases.find((l) => l.stepName === "fan[1]");
    await complete(one, 0);
    const patch = await socket.next(
      (m) =>
        m.type === "patch" &&
        m.nodes.some((n: any) => n.step.name === "fan" && n.instances?.[0]?.statusLabel === "succeeded"),
    );
    const fan = patch.nodes.find((n: any) => n.step.name === "fan");
    expect(fan.statusLabel).toBe("running");
    expect(fan.instances.map((n: any) => [n.step.name, n.statusLabel])).toEqual([
      ["fan[1]", "succeeded"],
      ["fan[2]", "running"],
    ]);
  });

  it("sends a handler node in the patch's run when it changes", async () => {
    const runId = await start(
      "live-handler",
      "steps:\n  - name: only\n    command: echo\nhandlerOn:\n  success:\n    command: echo ok\n",
    );
    const socket = await connect(`/dag-runs/live-handler/${runId}/live`);
    await socket.next(isType("details"));
    const [only] = await leaseOf(runId);
    await complete(only, 0);
    const patch = await socket.next((m) => m.type === "patch" && m.run.onSuccess !== undefined);
    expect(patch.nodes.map((n: any) => n.step.name)).not.toContain("onSuccess");
    const [handler] = await leaseOf(runId);
    await complete(handler, 0);
    const end = await socket.next((m) => m.type === "patch" && m.run.statusLabel === "succeeded");
    expect(end.run.onSuccess.statusLabel).toBe("succeeded");
  });

  it("sends a step log's tail at subscription, then the text appended to it", async () => {
    const runId = await start("live-log", CHAIN);
    const [first] = await leaseOf(runId);
    const entries = [
      { seq: 1, stream: "stdout", text: "one\ntwo\n" },
      { seq: 2, stream: "stderr", text: "warn\n" },
      { seq: 3, stream: "stdout", text: "three\nfour" },
    ];
    await runnerApi(`/leases/${first.leaseId}/logs`, { token: first.token, entries });
    const socket = await connect(`/dag-runs/live-log/${runId}/live`);
    socket.ws.send(JSON.stringify({ type: "subscribe-log", stepName: "first", stream: "stdout", tail: 2 }));
    const reset = await socket.next(isType("log"));
    expect(reset).toEqual({
      type: "log",
      stepName: "first",
      stream: "stdout",
      attempt: 1,
      reset: true,
      content: "three\nfour",
    });
    await runnerApi(`/leases/${first.leaseId}/logs`, {
      token: first.token,
      entries: [
        { seq: 4, stream: "stdout", text: " more\n" },
        { seq: 5, stream: "stderr", text: "not this stream\n" },
      ],
    });
    // A repeated batch (its answer was lost) is stored once and sent once.
    await runnerApi(`/leases/${first.leaseId}/logs`, {
      token: first.token,
      entries: [{ seq: 4, stream: "stdout", text: " more\n" }],
    });
    await runnerApi(`/leases/${first.leaseId}/logs`, {
      token: first.token,
      entries: [{ seq: 6, stream: "stdout", text: "five\n" }],
    });
    expect(await socket.next(isType("log"))).toMatchObject({ reset: false, content: " more\n" });
    expect(await socket.next(isType("log"))).toMatchObject({ reset: false, content: "five\n" });
  });

  it("sends a batch that came ahead of a missing one only once the gap is filled, in order", async () => {
    const runId = await start("live-gap", CHAIN);
    const [first] = await leaseOf(runId);
    const socket = await connect(`/dag-runs/live-gap/${runId}/live`);
    socket.ws.send(JSON.stringify({ type: "subscribe-log", stepName: "first", stream: "stdout" }));
    expect(await socket.next(isType("log"))).toMatchObject({ reset: true, content: "" });
    const batch = (seq: number, text: string) =>
      runnerApi(`/leases/${first.leaseId}/logs`, { token: first.token, entries: [{ seq, stream: "stdout", text }] });
    await batch(2, "b\n");
    await batch(1, "a\n");
    expect(await socket.next(isType("log"))).toMatchObject({ reset: false, content: "a\nb\n" });
  });

  it("follows a step's new attempt with a reset when no attempt was named", async () => {
    const runId = await start(
      "live-retry",
      "steps:\n  - name: flaky\n    command: exit 1\n    retryPolicy:\n      limit: 1\n      intervalSec: 30\n",
    );
    const socket = await connect(`/dag-runs/live-retry/${runId}/live`);
    const [a1] = await leaseOf(runId);
    socket.ws.send(JSON.stringify({ type: "subscribe-log", stepName: "flaky", stream: "stdout" }));
    expect(await socket.next(isType("log"))).toMatchObject({ attempt: 1, reset: true });
    await complete(a1, 1);
    await fireRunAlarm(runId);
    const [a2] = await leaseOf(runId);
    expect(a2.attempt).toBe(2);
    expect(await socket.next(isType("log"))).toMatchObject({ attempt: 2, reset: true, content: "" });
    await runnerApi(`/leases/${a2.leaseId}/logs`, {
      token: a2.token,
      entries: [{ seq: 1, stream: "stdout", text: "second try\n" }],
    });
    expect(await socket.next(isType("log"))).toMatchObject({ attempt: 2, reset: false, content: "second try\n" });
  });

  it("answers a subscription to an unknown step or attempt with an error naming it", async () => {
    const runId = await start("live-bad", CHAIN);
    const socket = await connect(`/dag-runs/live-bad/${runId}/live`);
    socket.ws.send(JSON.stringify({ type: "subscribe-log", stepName: "nope", stream: "stdout" }));
    expect(await socket.next(isType("error"))).toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/nope/),
    });
    socket.ws.send(JSON.stringify({ type: "subscribe-log", stepName: "first", stream: "stdout", attempt: 3 }));
    expect(await socket.next(isType("error"))).toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/attempt 3/),
    });
    socket.ws.send(JSON.stringify({ type: "subscribe-log", stepName: "first", stream: "stdin" }));
    expect(await socket.next(isType("error"))).toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/stream/),
    });
  });

  it("serves a sub-DAG run's socket below the run that called it", async () => {
    const runId = await start(
      "live-parent",
      "steps:\n  - name: call-child\n    call: live-child\n---\nname: live-child\nsteps:\n  - name: inner\n    command: echo\n",
    );
    const [inner] = await leaseOf(await childOf(runId));
    const socket = await connect(`/dag-runs/live-parent/${runId}/sub-dag-runs/${inner.runId}/live`);
    const first = await socket.next(isType("details"));
    expect(first.dagRunDetails).toMatchObject({ dagRunId: inner.runId, name: "live-child" });
    await complete(inner, 0);
    const patch = await socket.next((m) => m.type === "patch" && m.run.statusLabel === "succeeded");
    expect(patch.nodes.map((n: any) => n.step.name)).toEqual(["inner"]);
  });

  it("opens without a token when the operator set DAGFLARE_AUTH=off", async () => {
    const runId = await start("live-open", CHAIN);
    const res = await app.request(
      `/api/v2/dag-runs/live-open/${runId}/live`,
      { headers: { upgrade: "websocket", "sec-websocket-protocol": "dagflare.v1" } },
      { ...env, DAGFLARE_API_TOKEN: undefined, DAGFLARE_AUTH: "off" },
    );
    expect(res.status).toBe(101);
    expect(res.headers.get("sec-websocket-protocol")).toBe("dagflare.v1");
    res.webSocket?.accept();
    res.webSocket?.close();
  });

  it("refuses an upgrade without a token, with a wrong token, or with the token in the URL", async () => {
    const runId = await start("live-auth", CHAIN);
    const path = `/dag-runs/live-auth/${runId}/live`;
    const upgrade = { upgrade: "websocket", "sec-websocket-protocol": "dagflare.v1" };
    for (const [p, headers] of [
      [path, upgrade],
      [path, { ...upgrade, "sec-websocket-protocol": "dagflare.v1, bearer.wrong" }],
      [`${path}?token=${USER_TOKEN}`, upgrade],
    ] as const) {
      const res = await request(p, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: "unauthorized" });
    }
  });

  it("answers 426 without Upgrade: websocket and 404 for an unknown run", async () => {
    const runId = await start("live-426", CHAIN);
    const plain = await request(`/dag-runs/live-426/${runId}/live`, { authorization: `Bearer ${USER_TOKEN}` });
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ code: "bad_request", message: expect.stringMatching(/Upgrade/) });
    const missing = await request("/dag-runs/live-426/no-such-run/live", {
      upgrade: "websocket",
      "sec-websocket-protocol": `dagflare.v1, bearer.${USER_TOKEN}`,
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "not_found" });
  });
});
