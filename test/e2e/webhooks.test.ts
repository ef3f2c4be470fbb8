// Outgoing webhooks end to end: a real run on real runners, and real HTTP receivers on
// loopback that check every delivery's signature and timestamp as docs/webhooks.md tells a
// receiver to; one fails its first attempts (retried from the delivery object's alarms), one
// never answers (the attempt times out, and the run does not wait for it).
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, waitFor } from "./harness";

const TIMEOUT_MS = 4_000;
const SECRET = "e2e-webhook-secret-0123456789";

interface Received {
  path: string;
  event: string;
  deliveryId: string;
  body: { type: string; data: { dagName: string; step?: { name: string; status: string } } };
}

/** Receivers by path: `/ok` answers 204, `/flaky` 503 to a delivery's first two attempts, `/hang` never. */
function receiver() {
  const received: Received[] = [];
  const forged: string[] = [];
  const hanging = new Set<ServerResponse>();
  const tries = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (chunk) => {
      raw += chunk;
    });
    req.on("end", () => {
      if (!verified(req, raw)) {
        forged.push(raw);
        res.writeHead(401).end();
        return;
      }
      const deliveryId = String(req.headers["x-dagflare-delivery"]);
      received.push({
        path: req.url ?? "",
        event: String(req.headers["x-dagflare-event"]),
        deliveryId,
        body: JSON.parse(raw),
      });
      if (req.url === "/hang") {
        hanging.add(res);
        return;
      }
      const n = (tries.get(deliveryId) ?? 0) + 1;
      tries.set(deliveryId, n);
      res.writeHead(req.url === "/flaky" && n <= 2 ? 503 : 204).end();
    });
  });
  return { server, received, forged, hanging };
}

/** The check docs/webhooks.md shows: the HMAC of `timestamp.body`, and a timestamp under 5 minutes old. */
function verified(req: IncomingMessage, body: string): boolean {
  const timestamp = String(req.headers["x-dagflare-timestamp"] ?? "");
  const given = String(req.headers["x-dagflare-signature"] ?? "");
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${body}`).digest("hex")}`;
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

let stack: Stack;
const hooks = receiver();
let base = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => hooks.server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(hooks.server.address() as AddressInfo).port}`;
  stack = await startStack({
    runners: ["hook-runner-a", "hook-runner-b"],
    vars: {
      DAGFLARE_WEBHOOKS_LOOPBACK: "on",
      DAGFLARE_WEBHOOK_RETRY_BASE_MS: "200",
      DAGFLARE_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    },
  });
});

afterAll(async () => {
  for (const res of hooks.hanging) res.destroy();
  hooks.server.close();
  await stack?.stop();
});

async function register(path: string, events: string[], filters: Record<string, string[]> = {}) {
  const r = await stack.api("POST", "/outgoing-webhooks", { url: `${base}${path}`, events, filters, secret: SECRET });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
}

async function deliveries(id: string) {
  const r = await stack.api("GET", `/outgoing-webhooks/${id}/deliveries`);
  expect(r.status).toBe(200);
  return r.body.deliveries as Array<{
    event: string;
    status: string;
    attempts: Array<{ httpStatus?: number; error?: string; durationMs: number }>;
  }>;
}

describe("outgoing webhooks", () => {
  it("delivers a real run's dag and task events, signed, retrying a failing receiver, past one that never answers", async () => {
    const ok = await register("/ok", ["dag.*", "task.*"], { dagNames: ["hooked"] });
    const flaky = await register("/flaky", ["dag.succeeded", "dag.failed"], { dagNames: ["hooked"] });
    const hang = await register("/hang", ["task.started"], { dagNames: ["hooked"] });
    const spec = "steps:\n  - name: first\n    command: echo one\n  - name: second\n    command: echo two\n";
    const runId = await startDagRun(stack, "hooked", spec);
    const run = await runEnded(stack, "hooked", runId);
    expect(run.statusLabel).toBe("succeeded");

    // The run ended while the receiver that never answers still held its requests.
    expect(hooks.hanging.size).toBeGreaterThan(0);

    // Every event of the run, each once, to the receiver that answers.
    const okEvents = await waitFor("the run's events at /ok", async () => {
      const got = hooks.received.filter((r) => r.path === "/ok");
      return got.some((r) => r.event === "dag.succeeded") ? got : undefined;
    });
    const steps = (name: string) => okEvents.filter((r) => r.body.data.step?.name === name).map((r) => r.event);
    expect(okEvents[0]?.event).toBe("dag.started");
    expect(steps("first")).toEqual(["task.started", "task.succeeded"]);
    expect(steps("second")).toEqual(["task.started", "task.succeeded"]);
    expect(okEvents.every((r) => r.body.type === r.event && r.body.data.dagName === "hooked")).toBe(true);
    expect(hooks.forged).toEqual([]);

    // Two 503s, then delivered, the attempts recorded.
    const [flakyDelivery] = await waitFor("the flaky receiver's delivery", async () => {
      const list = await deliveries(flaky);
      return list[0]?.status === "delivered" ? list : undefined;
    });
    expect(flakyDelivery?.event).toBe("dag.succeeded");
    expect(flakyDelivery?.attempts.map((a) => a.httpStatus)).toEqual([503, 503, 204]);

    // The silent receiver's attempts end at the timeout, recorded as such, and are retried.
    const [hung] = await waitFor(
      "a timed-out attempt",
      async () => {
        const list = await deliveries(hang);
        return list.some((d) => d.attempts.length > 0) ? list : undefined;
      },
      TIMEOUT_MS * 5,
    );
    expect(hung?.attempts[0]?.error).toBe(`no answer within ${TIMEOUT_MS} ms`);
    expect(hung?.attempts[0]?.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect((await deliveries(ok)).every((d) => d.status === "delivered")).toBe(true);
  });
});
