// The simulated runners of `npm run bench:capacity`: they speak the runner protocol over HTTP
// (or the runner's socket) and complete each lease the moment they get it, so that the server is
// the bottleneck. Every call they make ends: it is given up when its scenario stops or passes
// its deadline, and a socket the server closes is replaced by HTTP, as the dagflare runner does.
// What each runner is waiting for is kept, so that a scenario that stops moving can say so.
import { setMaxListeners } from "node:events";
import WebSocket from "ws";

/** Steps select this label; idle runners lack it. */
export const WORK = { kind: "work" };
const IDLE = { kind: "idle" };
/** How long a working runner's lease request waits for work (the protocol's `waitMs`). */
export const WORK_POLL_WAIT_MS = 1000;
/** Most leases one simulated runner asks for at once (the protocol's `max`). */
export const MAX_PER_REQUEST = 64;

/** What the simulated runners saw: leases per step (a second lease of a step is a wasted one). */
export function newTally() {
  return {
    leases: 0,
    completed: 0,
    refused: 0,
    idleRequests: 0,
    /** Calls that got no answer (network error, given up, socket closed under them). */
    unanswered: 0,
    /** Sockets the server closed while the scenario ran. */
    socketsClosed: 0,
    /** When a step last completed (epoch ms): a scenario with no completion for long has stalled. */
    lastProgressAt: Date.now(),
    byStep: new Map(),
    /** Calls under way: runner id -> { path, since }. */
    calls: new Map(),
  };
}

/**
 * The runners of one scenario. `http(path, body, token, signal)` makes one HTTP call and answers
 * `{status, body}`; `base` is the Worker's URL.
 * @param {{ base: string, token: string, http: Function, single: boolean, overSocket: boolean }} opts
 */
export function runnerPool(opts, { inFlight = 1, idle = 0 }, tally, signal) {
  // Every call of every runner listens to it.
  setMaxListeners(0, signal);
  const workers = Math.max(1, Math.ceil(inFlight / MAX_PER_REQUEST));
  const max = Math.min(inFlight, MAX_PER_REQUEST);
  /** Runner calls over HTTP, given up with the scenario. */
  const overHttp = (path, body) =>
    opts.http(`/runners${path}`, body, opts.token, signal).catch(() => {
      tally.unanswered++;
      return undefined;
    });
  const tracked = (id, send) => async (path, body) => {
    tally.calls.set(id, { path, since: Date.now() });
    try {
      return await send(path, body);
    } finally {
      tally.calls.delete(id);
    }
  };
  const running = [
    ...Array.from({ length: workers }, async (_, i) => {
      const id = `work-${i}`;
      const send = opts.overSocket ? await socketOf(opts, id, tally, signal, overHttp) : overHttp;
      await workingRunner(id, max, tally, signal, tracked(id, send), opts.single);
    }),
    ...Array.from({ length: idle }, (_, i) => idleRunner(`idle-${i}`, tally, signal, overHttp)),
  ];
  return Promise.allSettled(running);
}

/** A runner that completes every lease at once, asking for the next in the same call. */
async function workingRunner(id, max, tally, signal, send, single) {
  const next = { runnerId: id, labels: WORK, max: 1 };
  const completed = () => {
    tally.completed++;
    tally.lastProgressAt = Date.now();
  };
  let leases = [];
  while (!signal.aborted) {
    if (leases.length === 0) {
      leases =
        (await send("/lease", { runnerId: id, labels: WORK, max, waitMs: WORK_POLL_WAIT_MS }))?.body?.leases ?? [];
      continue;
    }
    for (const l of leases) {
      tally.leases++;
      const step = l.leaseId.split(".").slice(0, 2).join(".");
      tally.byStep.set(step, (tally.byStep.get(step) ?? 0) + 1);
    }
    if (single) {
      const replies = await Promise.all(
        leases.map(async (l) => {
          const r = await send(`/leases/${l.leaseId}/complete`, { token: l.token, exitCode: 0, next });
          if (r?.status === 200) completed();
          else if (r) tally.refused++;
          return r?.body?.next ?? [];
        }),
      );
      leases = replies.flat();
      continue;
    }
    // Every lease it holds in one call, asking for as many next leases.
    const completions = leases.map((l) => ({ leaseId: l.leaseId, token: l.token, exitCode: 0 }));
    const r = await send("/completions", { completions, next: { ...next, max: leases.length } });
    for (const result of r?.body?.results ?? []) {
      if (result.status === 200) completed();
      else tally.refused++;
    }
    leases = r?.body?.next ?? [];
  }
}

/**
 * Runner calls over the runner's socket: one message each way per call. A call is answered
 * `undefined` when the socket closes under it or the scenario gives up; once the server closed
 * the socket, the runner's calls go over HTTP.
 */
async function socketOf(opts, id, tally, signal, overHttp) {
  const url = new URL(`${opts.base.replace(/^http/, "ws")}/api/v2/runners/socket`);
  url.searchParams.set("runnerId", id);
  url.searchParams.set("labels", JSON.stringify(WORK));
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${opts.token}` }, perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
    signal.addEventListener("abort", () => reject(new Error(`${id}: the socket did not open`)), { once: true });
  });
  const waiting = new Map();
  let nextId = 1;
  const answerAll = () => {
    for (const resolve of waiting.values()) resolve(undefined);
    waiting.clear();
  };
  signal.addEventListener("abort", () => ws.terminate(), { once: true });
  // Errors after the socket opened end in "close"; they must not crash the benchmark.
  ws.on("error", () => {});
  ws.on("close", () => {
    if (!signal.aborted) tally.socketsClosed++;
    tally.unanswered += waiting.size;
    answerAll();
  });
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return (path, body) => {
    if (ws.readyState !== WebSocket.OPEN) return signal.aborted ? Promise.resolve(undefined) : overHttp(path, body);
    const callId = nextId++;
    const answer = new Promise((resolve) => waiting.set(callId, resolve));
    ws.send(JSON.stringify({ id: callId, path, body }));
    return answer;
  };
}

/** A runner whose labels no step selects: it long-polls the pool and is woken for nothing. */
async function idleRunner(id, tally, signal, overHttp, waitMs = 25_000) {
  while (!signal.aborted) {
    tally.idleRequests++;
    await overHttp("/lease", { runnerId: id, labels: IDLE, max: 1, waitMs });
  }
}

/** One long poll that nothing wakes: what it costs the dispatcher is measured with it. */
export function idleProbe(opts, signal) {
  return opts.http("/runners/lease", { runnerId: "idle-probe", labels: IDLE, max: 1, waitMs: 100 }, opts.token, signal);
}
