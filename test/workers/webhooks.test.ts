// Outgoing webhooks through the API: registration and its refusals, secrets never answered
// again, roles, and the events of a real run queued at the webhook's delivery object.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { CreateApiKeyResponse } from "../../src/access/api-keys";
import { UNHEALTHY_AFTER_MS } from "../../src/dispatch/fleet";
import { DeliveryList } from "../../src/routes/webhooks";
import { dispatcherFor, webhookStub } from "../../src/stubs";
import { MAX_HEADER_BYTES } from "../../src/webhooks/limits";
import { CreateWebhookResponse, WebhookInfo, WebhookList } from "../../src/webhooks/registry";
import { callCounts, complete, createDag, extApi, lease, runnerApi, startDag } from "./helpers";

// Loopback, where nothing listens: an attempt fails at once, without a name to look up.
const RECEIVER = "http://127.0.0.1:9/dagflare";
const Any = z.unknown();

/** A webhooks call: a success must parse with the route's schema, an error has the flat shape. */
const api = (method: string, path: string, body?: unknown, token?: string) =>
  extApi(method, `${path}`, body, Any, token);

async function register(body: Record<string, unknown>) {
  const r = await extApi<{ id: string; secret: string }>(
    "POST",
    "/outgoing-webhooks",
    { url: RECEIVER, events: ["*"], ...body },
    CreateWebhookResponse,
  );
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function refused(body: Record<string, unknown>) {
  const r = await extApi("POST", "/outgoing-webhooks", { url: RECEIVER, events: ["*"], ...body }, WebhookInfo);
  expect(r.status).toBe(400);
  return r.body as { code: string; message: string; details?: { fields?: string[] } };
}

async function deliveries(id: string) {
  const r = await extApi("GET", `/outgoing-webhooks/${id}/deliveries`, undefined, DeliveryList);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.deliveries as Array<{ event: string; status: string; attempts: unknown[]; nextAttemptAt?: string }>;
}

describe("registering a webhook", () => {
  it("answers the secret once and never in a list or a read", async () => {
    const created = await register({ name: "ops", secret: "a-secret-of-some-length", headers: { "X-Team": "ops" } });
    expect(created.secret).toBe("a-secret-of-some-length");
    const list = await extApi("GET", "/outgoing-webhooks", undefined, WebhookList);
    const one = await extApi("GET", `/outgoing-webhooks/${created.id}`, undefined, WebhookInfo);
    expect(list.body.webhooks).toContainEqual(expect.objectContaining({ id: created.id, name: "ops" }));
    expect(one.body).toMatchObject({
      id: created.id,
      url: "http://127.0.0.1:9/dagflare",
      headerNames: ["X-Team"],
      format: "json",
    });
    expect(JSON.stringify([list.body, one.body])).not.toContain("a-secret-of-some-length");
    expect(JSON.stringify([list.body, one.body])).not.toContain('"ops"}');
  });

  it("generates a secret when none is given", async () => {
    const created = await register({});
    expect(created.secret).toMatch(/^whsec_[0-9a-f]{48}$/);
  });

  it.each([
    ["a plain http URL", { url: "http://hooks.example.com/x" }, "url", /must be https/],
    ["ftp", { url: "ftp://127.0.0.1/x" }, "url", /must be https/],
    ["something that is not a URL", { url: "hooks" }, "url", /not a URL/],
    ["credentials in the URL", { url: "https://me:pw@hooks.example.com/" }, "url", /headers/],
    ["an unknown event", { events: ["dag.started", "dag.exploded"] }, "events.1", /unknown event "dag.exploded"/],
    ["no event", { events: [] }, "events", /events/],
    ["an unknown filter", { filters: { dags: ["x"] } }, "filters", /dags/],
    ["a filter name with a control character", { filters: { stepNames: ["a\nb"] } }, "filters.stepNames.0", /control/],
    ["a reserved header", { headers: { "Content-Type": "text/plain" } }, "headers.Content-Type", /set by dagflare/],
    ["a signature header", { headers: { "X-Dagflare-Signature": "x" } }, "headers.X-Dagflare-Signature", /set by/],
    ["a header value on two lines", { headers: { "X-A": "a\r\nX-B: b" } }, "headers.X-A", /one line/],
    ["oversized headers", { headers: { "X-Big": "x".repeat(MAX_HEADER_BYTES) } }, "headers", /over the limit/],
    ["a short secret", { secret: "short" }, "secret", /secret/],
    ["an unknown format", { format: "teams" }, "format", /format/],
  ])("refuses %s with 400 naming the field", async (_what, body, field, words) => {
    const before = (await extApi("GET", "/outgoing-webhooks", undefined, WebhookList)).body.webhooks.length;
    const r = await refused(body);
    expect(r.code).toBe("bad_request");
    expect(r.details?.fields).toContain(field);
    expect(r.message).toMatch(words);
    expect((await extApi("GET", "/outgoing-webhooks", undefined, WebhookList)).body.webhooks).toHaveLength(before);
  });

  it("accepts http to a loopback receiver when dagflare runs locally", async () => {
    const created = await register({ url: "http://127.0.0.1:9/hook" });
    expect(created.id).toMatch(/^wh_/);
  });

  it("is refused to an operator and allowed to a manager", async () => {
    const key = async (role: string) =>
      (await extApi("POST", "/api-keys", { name: `${role} for hooks`, role }, CreateApiKeyResponse)).body.key;
    const body = { url: "https://hooks.example.com/x", events: ["dag.*"] };
    expect((await api("POST", "/outgoing-webhooks", body, await key("operator"))).status).toBe(403);
    expect((await api("GET", "/outgoing-webhooks", undefined, await key("operator"))).status).toBe(403);
    expect((await api("POST", "/outgoing-webhooks", body, await key("manager"))).status).toBe(201);
  });

  it("forgets a deleted webhook: a read and its deliveries answer 404", async () => {
    const { id } = await register({});
    expect((await api("DELETE", `/outgoing-webhooks/${id}`)).status).toBe(200);
    expect((await api("GET", `/outgoing-webhooks/${id}`)).status).toBe(404);
    expect((await api("GET", `/outgoing-webhooks/${id}/deliveries`)).status).toBe(404);
    expect((await api("DELETE", `/outgoing-webhooks/${id}`)).status).toBe(404);
  });

  it("refuses a malformed webhook id with 400", async () => {
    const r = await api("GET", "/outgoing-webhooks/not-an-id");
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual({ field: "id" });
  });
});

describe("a run's events", () => {
  // Each test's webhooks alone hear its run.
  beforeEach(async () => {
    const all = await extApi("GET", "/outgoing-webhooks", undefined, WebhookList);
    for (const h of all.body.webhooks as Array<{ id: string }>) await api("DELETE", `/outgoing-webhooks/${h.id}`);
  });

  it("queues the run's dag and task events, in order, for a webhook that takes them", async () => {
    const { id } = await register({ events: ["dag.*", "task.*"], filters: { dagNames: ["hooked-*"] } });
    await createDag("hooked-fail", "steps:\n  - name: only\n    command: exit 3\n");
    await startDag("hooked-fail");
    const [l] = await lease();
    expect(l?.dagName).toBe("hooked-fail");
    if (l) await complete(l, 3);
    const list = await deliveries(id);
    expect(list.map((d) => d.event).reverse()).toEqual(["dag.started", "task.started", "task.failed", "dag.failed"]);
  });

  it("sends nothing and calls no delivery object for a DAG the filters leave out", async () => {
    const { id } = await register({ events: ["*"], filters: { dagNames: ["someone-else"] } });
    await createDag("unhooked", "steps:\n  - name: only\n    command: true\n");
    const count = await callCounts();
    const before = count("WEBHOOKS.enqueue");
    await startDag("unhooked");
    const [l] = await lease();
    if (l) await complete(l, 0);
    expect((await callCounts())("WEBHOOKS.enqueue")).toBe(before);
    expect(await deliveries(id)).toEqual([]);
  });

  it("records a failed attempt and schedules the next when the receiver cannot be reached", async () => {
    const { id } = await register({ events: ["dag.started"] });
    await createDag("hooked-unreachable", "steps:\n  - name: only\n    command: true\n");
    await startDag("hooked-unreachable");
    // Runs the alarm now, unless it already ran on its own.
    await runDurableObjectAlarm(webhookStub(env, id));
    const d = await vi.waitFor(async () => {
      const [first] = await deliveries(id);
      expect(first?.attempts).toHaveLength(1);
      return first;
    });
    expect(d).toMatchObject({ event: "dag.started", status: "pending", attempts: [{ attempt: 1 }] });
    expect(d?.attempts[0]).toMatchObject({ error: expect.any(String) });
    expect(Date.parse(d?.nextAttemptAt ?? "")).toBeGreaterThan(Date.now());
  });
});

describe("runner events", () => {
  beforeEach(async () => {
    const all = await extApi("GET", "/outgoing-webhooks", undefined, WebhookList);
    for (const h of all.body.webhooks as Array<{ id: string }>) await api("DELETE", `/outgoing-webhooks/${h.id}`);
  });

  it("announces a runner online at its first report, and not at the next", async () => {
    const { id } = await register({ events: ["runner.online"] });
    const report = { runnerId: "host-new", labels: { os: "linux" }, totalSlots: 1 };
    expect((await runnerApi("/heartbeat", report)).status).toBe(200);
    const [online] = await vi.waitFor(async () => {
      const list = await deliveries(id);
      expect(list).toHaveLength(1);
      return list;
    });
    expect(online?.event).toBe("runner.online");
    expect((await runnerApi("/heartbeat", report)).status).toBe(200);
    expect(await deliveries(id)).toHaveLength(1);
  });

  it("announces a runner offline once it has been silent long enough to be unhealthy", async () => {
    const { id } = await register({ events: ["runner.offline"] });
    const dispatcher = dispatcherFor(env);
    const lastSeenAt = Date.now() - UNHEALTHY_AFTER_MS - 1_000;
    await dispatcher.runnerReport({ runnerId: "host-gone", labels: {}, totalSlots: 1, running: [], lastSeenAt }, "t");
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(dispatcher);
      expect((await deliveries(id)).map((d) => d.event)).toEqual(["runner.offline"]);
    });
  });
});
