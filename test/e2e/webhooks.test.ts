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
      const deliveryId = String(req.headers["x-dagflare-event-id"]);
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
      const n = (tries.get(`${req.url} ${deliveryId}`) ?? 0) + 1;
      tries.set(`${req.url} ${deliveryId}`, n);
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

describe("outgoing webhooks of a real run", () => {
  const ids = { ok: "", flaky: "", hang: "" };
  let run: { statusLabel: string };
  let hangingWhenRunEnded = 0;

  beforeAll(async () => {
    ids.ok = await register("/ok", ["dag.*", "task.*"], { dagNames: ["hooked"] });
    ids.flaky = await register("/flaky", ["dag.succeeded", "dag.failed"], { dagNames: ["hooked"] });
    ids.hang = await register("/hang", ["task.started"], { dagNames: ["hooked"] });
    const spec = "steps:\n  - name: first\n    command: echo one\n  - name: second\n    command: echo two\n";
    const runId = await startDagRun(stack, "hooked", spec);
    run = await runEnded(stack, "hooked", runId);
    hangingWhenRunEnded = hooks.hanging.size;
  });

  it("ends the run while a receiver that never answers still holds its requests", () => {
    expect(run.statusLabel).toBe("succeeded");
    expect(hangingWhenRunEnded).toBeGreaterThan(0);
  });

  it("delivers each dag and task event of the run once, in order, signed and timestamped", async () => {
    const got = await waitFor("the run's events at /ok", async () => {
      const list = hooks.received.filter((r) => r.path === "/ok");
      return list.some((r) => r.event === "dag.succeeded") ? list : undefined;
    });
    const steps = (name: string) => got.filter((r) => r.body.data.step?.name === name).map((r) => r.event);
    expect(got[0]?.event).toBe("dag.started");
    expect(got.at(-1)?.event).toBe("dag.succeeded");
    expect(steps("first")).toEqual(["task.started", "task.succeeded"]);
    expect(steps("second")).toEqual(["task.started", "task.succeeded"]);
    expect(got.every((r) => r.body.type === r.event && r.body.data.dagName === "hooked")).toBe(true);
    expect(hooks.forged).toEqual([]);
    const recorded = await waitFor("the deliveries to /ok to be recorded", async () => {
      const list = await deliveries(ids.ok);
      return list.length === got.length && list.every((d) => d.status === "delivered") ? list : undefined;
    });
    expect(recorded.every((d) => d.attempts.length === 1 && d.attempts[0]?.httpStatus === 204)).toBe(true);
  });

  it("tries a failing receiver again from the delivery object's alarms, recording each attempt", async () => {
    const [delivery] = await waitFor("the flaky receiver's delivery", async () => {
      const list = await deliveries(ids.flaky);
      return list[0]?.status === "delivered" ? list : undefined;
    });
    expect(delivery?.event).toBe("dag.succeeded");
    expect(delivery?.attempts.map((a) => a.httpStatus)).toEqual([503, 503, 204]);
  });

  it("records an attempt the receiver never answers as timed out, and keeps the delivery pending", async () => {
    const hung = await waitFor(
      "a timed-out attempt",
      async () => (await deliveries(ids.hang)).find((d) => d.attempts.length > 0),
      TIMEOUT_MS * 5,
    );
    expect(hung.status).toBe("pending");
    expect(hung.attempts[0]?.error).toBe(`no answer within ${TIMEOUT_MS} ms`);
    expect(hung.attempts[0]?.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
  });
});
