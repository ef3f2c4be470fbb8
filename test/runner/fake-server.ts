// A stand-in for the dagflare server at the edge of the runner's tests: it serves the runner
// protocol from memory and records every call. The real server is exercised by test/e2e.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, vi } from "vitest";
import { RunnerClient } from "../../runner/src/client.ts";
import { StepRun } from "../../runner/src/exec.ts";
import { LeaseLoop, type LoopOptions } from "../../runner/src/lease-loop.ts";
import type {
  CompleteRequest,
  Lease,
  LogEntry,
  LogsInCompletion,
  RunnerHeartbeatRequest,
} from "../../src/shared/protocol";

type Action = "heartbeat" | "logs" | "complete" | "release";

export class FakeServer {
  readonly calls: Array<{ path: string; body: any; at: number; auth?: string }> = [];
  readonly logs = new Map<string, LogEntry[]>();
  readonly completions = new Map<string, CompleteRequest>();
  readonly releases: string[] = [];
  /** The runners' own heartbeats (fleet reports). */
  readonly runnerReports: RunnerHeartbeatRequest[] = [];
  /** Leases handed out in completion replies that ask for `next`. */
  nextQueue: Lease[] = [];
  /** Leases whose step was stopped: heartbeats answer `cancel: true`. */
  readonly cancelled = new Set<string>();
  /** Calls about these leases answer 409 (only the listed actions, or all when none are listed). */
  readonly lost = new Map<string, Action[]>();
  /** Status for the next N calls (optionally only calls whose path ends with `suffix`). */
  failNext: { status: number; count: number; suffix?: string } = { status: 0, count: 0 };
  /** Called before a completion is answered. */
  onComplete: ((leaseId: string) => void) | undefined;
  /** While set, completion calls (one or several) are recorded but answered only once it settles. */
  holdCompletions: Promise<void> | undefined;
  /** False: the server predates `/completions` and answers it 404. */
  batchCompletions = true;
  /** TTL that heartbeats renew leases with. */
  ttlMs = 3000;
  /** Longest a /lease call waits for work: kept short in tests. */
  maxWaitMs = 300;
  url = "";
  private readonly queue: Lease[] = [];
  private waiters: Array<() => void> = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Holds every completion call until the returned function is called. */
  pauseCompletions(): () => void {
    let release: () => void = () => {};
    this.holdCompletions = new Promise<void>((r) => (release = r));
    return () => {
      this.holdCompletions = undefined;
      release();
    };
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Makes leases available to /lease, waking a waiting long poll. */
  offer(...leases: Lease[]): void {
    this.queue.push(...leases);
    for (const wake of this.waiters.splice(0)) wake();
  }

  logText(leaseId: string, stream: "stdout" | "stderr" = "stdout"): string {
    return (this.logs.get(leaseId) ?? [])
      .filter((e) => e.stream === stream)
      .map((e) => e.text)
      .join("");
  }

  callsTo(suffix: string): Array<{ path: string; body: any; at: number; auth?: string }> {
    return this.calls.filter((c) => c.path.endsWith(suffix));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : {};
    const path = decodeURIComponent((req.url ?? "").replace("/api/v2/runners", ""));
    this.calls.push({ path, body, at: Date.now(), auth: req.headers.authorization });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (this.failNext.count > 0 && path.endsWith(this.failNext.suffix ?? "")) {
      this.failNext.count--;
      return send(this.failNext.status, { code: "simulated", message: `simulated ${this.failNext.status}` });
    }
    if (path === "/completions" || path.endsWith("/complete")) await this.holdCompletions;
    if (path === "/completions" && this.batchCompletions) return send(200, this.completeMany(body));
    if (path === "/lease") return send(200, { leases: await this.takeLeases(body.max, body.waitMs, res) });
    if (path === "/heartbeat") {
      this.runnerReports.push(body);
      return send(200, {});
    }
    const m = /^\/leases\/([^/]+)\/(\w+)$/.exec(path);
    if (!m) return send(404, { code: "not_found", message: path });
    const leaseId = m[1] as string;
    const action = m[2] as Action;
    const lostOn = this.lost.get(leaseId);
    if (lostOn && (lostOn.length === 0 || lostOn.includes(action))) {
      return send(409, { code: "not_running", message: "lease is not current" });
    }
    switch (action) {
      case "heartbeat":
        return send(200, { cancel: this.cancelled.has(leaseId), ttlMs: this.ttlMs });
      case "logs": {
        const stored = this.logs.get(leaseId) ?? [];
        for (const e of body.entries as LogEntry[]) if (!stored.some((s) => s.seq === e.seq)) stored.push(e);
        stored.sort((a, b) => a.seq - b.seq);
        this.logs.set(leaseId, stored);
        let acked = 0;
        for (const e of stored) if (e.seq === acked + 1) acked = e.seq;
        return send(200, { ackedSeq: acked });
      }
      case "complete": {
        const next = body.next ? this.nextQueue.splice(0, body.next.max) : [];
        return send(200, { accepted: this.accept(leaseId, body), next });
      }
      case "release":
        this.releases.push(leaseId);
        return send(200, {});
    }
  }

  /** Takes a completion once; the log entries it brings (`logs`) are stored with it. */
  private accept(leaseId: string, body: CompleteRequest & { logs?: LogEntry[] }): boolean {
    this.onComplete?.(leaseId);
    const accepted = !this.completions.has(leaseId);
    if (accepted) this.completions.set(leaseId, body);
    if (accepted && body.logs) this.logs.set(leaseId, [...(this.logs.get(leaseId) ?? []), ...body.logs]);
    return accepted;
  }

  /**
   * Each completion answered as its own `complete` would be; `next` after all of them. An
   * offered completion (a step run ahead, no token) is taken right behind a taken completion,
   * with the token of its lease in `nextQueue` (which it leaves), as the server's hand-off would.
   */
  private completeMany(body: {
    completions: Array<CompleteRequest & { leaseId: string; offered?: { attempt: number }; logs?: LogEntry[] }>;
    next?: { max: number };
  }) {
    let taken = false;
    const results = body.completions.map(({ leaseId, offered, ...req }) => {
      const lostOn = this.lost.get(leaseId);
      const refused = (lostOn && (lostOn.length === 0 || lostOn.includes("complete"))) || (offered && !taken);
      taken = !refused;
      if (refused) return { leaseId, status: 409, body: { code: "not_running", message: "lease is not current" } };
      if (!offered) return { leaseId, status: 200, body: { accepted: this.accept(leaseId, req) } };
      const at = this.nextQueue.findIndex((l) => l.leaseId === leaseId);
      const token = at >= 0 ? (this.nextQueue.splice(at, 1)[0] as Lease).token : `offered-${leaseId}`;
      return { leaseId, status: 200, body: { accepted: this.accept(leaseId, { ...req, token }), token } };
    });
    return { results, next: body.next ? this.nextQueue.splice(0, body.next.max) : [] };
  }

  /** Like the real server: waits for work, and takes none for a caller that went away. */
  private async takeLeases(max: number, waitMs: number, res: ServerResponse): Promise<Lease[]> {
    const gone = () => res.destroyed || res.socket === null || res.socket.destroyed;
    const deadline = Date.now() + Math.min(waitMs, this.maxWaitMs);
    while (this.queue.length === 0 && Date.now() < deadline && !gone()) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          res.off("close", wake);
          resolve();
        };
        const timer = setTimeout(wake, deadline - Date.now());
        res.once("close", wake);
        this.waiters.push(wake);
      });
    }
    return gone() ? [] : this.queue.splice(0, max);
  }
}

let counter = 0;

export function makeLease(exec: Partial<Lease["exec"]>, over: Partial<Lease> = {}): Lease {
  counter++;
  return {
    leaseId: `run${counter}.0.1`,
    token: `token-${counter}`,
    runId: `run${counter}`,
    dagName: "dag",
    stepName: `step${counter}`,
    attempt: 1,
    ttlMs: 3000,
    heartbeatIntervalMs: 1000,
    exec: { shell: ["sh"], args: [], env: {}, maxOutputBytes: 1024 * 1024, ...exec },
    ...over,
  };
}

/** Polls `check` until it returns something other than undefined/false: waits for an event, not a time. */
export async function until<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True while any process of the group exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * A fake server started before the file's tests and stopped after them, and `run`: one lease of
 * `exec` executed by the runner's StepRun (a real process), with the completion and the logs the
 * server received.
 */
export function withFakeServer() {
  const backoff = { firstMs: 10, maxMs: 50 };
  const ctx = {} as { server: FakeServer; client: RunnerClient };
  beforeAll(async () => {
    ctx.server = await new FakeServer().start();
    ctx.client = new RunnerClient({ server: ctx.server.url, token: "", log: () => {}, backoff });
  });
  afterAll(() => ctx.server.stop());
  const run = async (exec: Partial<Lease["exec"]>) => {
    const lease = makeLease(exec);
    await new StepRun(lease, { client: ctx.client, log: () => {}, backoff }).execute();
    const done = ctx.server.completions.get(lease.leaseId);
    if (!done) throw new Error("no completion");
    return { done, stdout: ctx.server.logText(lease.leaseId), stderr: ctx.server.logText(lease.leaseId, "stderr") };
  };
  return { ctx, run };
}

/**
 * A chain of leases, each offering every step after it, nested, as the server offers them;
 * `bound`: what each offered step's completion may bring of its log (none: an older server).
 */
export function leaseChain(commands: string[], bound?: LogsInCompletion): Lease[] {
  const first = makeLease({ command: commands[0] ?? "true" }, { stepName: "s0" });
  const leases = commands.map((command, i) =>
    i === 0
      ? first
      : makeLease({ command }, { runId: first.runId, leaseId: `${first.runId}.${i}.1`, stepName: `s${i}` }),
  );
  const offersFrom = (i: number): Lease["successor"] => {
    const l = leases[i];
    if (!l) return undefined;
    const offer: NonNullable<Lease["successor"]> = {
      leaseId: l.leaseId,
      stepName: l.stepName,
      attempt: l.attempt,
      exec: structuredClone(l.exec),
      ...(bound && { logsInCompletion: bound }),
    };
    const after = offersFrom(i + 1);
    if (after) offer.successor = after;
    return offer;
  };
  leases.forEach((l, i) => {
    const offer = offersFrom(i + 1);
    if (offer) l.successor = offer;
  });
  return leases;
}

/**
 * A lease loop of one slot on `server`, its lines in `lines`, and `handed(lease)`: whether a step
 * has handed that lease's completion to the runner's client (its exit was seen and reported).
 */
export function testLeaseLoop(server: FakeServer, lines: string[], over: Partial<LoopOptions> = {}) {
  const backoff = { firstMs: 10, maxMs: 50 };
  const client = new RunnerClient({ server: server.url, token: "", log: () => {}, backoff });
  const complete = vi.spyOn(client, "complete");
  const handed = (lease: Lease) => complete.mock.calls.some(([leaseId]) => leaseId === lease.leaseId);
  const loop = new LeaseLoop({
    client,
    runnerId: "r1",
    labels: {},
    concurrency: 1,
    log: (line) => lines.push(line),
    waitMs: 25_000,
    backoff,
    ...over,
  });
  return { loop, handed };
}
