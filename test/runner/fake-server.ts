// A stand-in for the dagflare server at the edge of the runner's tests: it serves the runner
// protocol from memory and records every call. The real server is exercised by test/e2e.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Lease, LogEntry } from "../../src/protocol";

export interface Completion {
  leaseId: string;
  body: Record<string, any>;
}

export class FakeServer {
  readonly calls: Array<{ path: string; body: any }> = [];
  readonly logs = new Map<string, LogEntry[]>();
  readonly completions: Completion[] = [];
  readonly releases: string[] = [];
  /** Leases handed out by /lease, one per call, in order. */
  queue: Lease[] = [];
  /** Leases handed out in completion replies that ask for `next`. */
  nextQueue: Lease[] = [];
  cancel = new Set<string>();
  lost = new Set<string>();
  /** Status to answer the next N calls with (e.g. 503 to simulate an outage). */
  failNext: { status: number; count: number } = { status: 0, count: 0 };
  private server: Server;
  url = "";

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
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

  logText(leaseId: string, stream: "stdout" | "stderr" = "stdout"): string {
    return (this.logs.get(leaseId) ?? [])
      .filter((e) => e.stream === stream)
      .map((e) => e.text)
      .join("");
  }

  private async handle(req: IncomingMessage, res: import("node:http").ServerResponse) {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : {};
    const path = (req.url ?? "").replace("/api/v2/runners", "");
    this.calls.push({ path, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (this.failNext.count > 0) {
      this.failNext.count--;
      return send(this.failNext.status, { code: "internal_error", message: "simulated" });
    }
    const m = /^\/leases\/([^/]+)\/(\w+)$/.exec(path);
    if (path === "/lease") {
      const lease = this.queue.shift();
      if (lease) return send(200, { leases: [lease] });
      // Long poll, kept short in tests.
      await new Promise((r) => setTimeout(r, Math.min(body.waitMs ?? 0, 200)));
      return send(200, { leases: [] });
    }
    if (!m) return send(404, { code: "not_found", message: path });
    const [, leaseId = "", action] = m;
    if (this.lost.has(leaseId)) return send(409, { code: "not_running", message: "lease is not current" });
    switch (action) {
      case "heartbeat":
        return send(200, { cancel: this.cancel.has(leaseId), ttlMs: 3000 });
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
        this.completions.push({ leaseId, body });
        const next = body.next ? this.nextQueue.splice(0, 1) : [];
        return send(200, { accepted: true, next });
      }
      case "release":
        this.releases.push(leaseId);
        return send(200, {});
    }
    return send(404, { code: "not_found", message: path });
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

export async function until<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
