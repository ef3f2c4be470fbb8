// Webhooks in: a DAG's token starts that DAG with the posted JSON as WEBHOOK_PAYLOAD, and a
// refusal never tells a caller whether the DAG exists.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CreateApiKeyResponse } from "../../src/access/api-keys";
import { MAX_WEBHOOK_PAYLOAD_BYTES } from "../../src/limits";
import { CreateWebhookTokenResponse, WebhookTokenInfo, WebhookTokenList } from "../../src/webhooks-in/tokens";
import { api, complete, createDag, extApi, lease } from "./helpers";

const SPEC = 'steps:\n  - name: got\n    command: echo "$WEBHOOK_PAYLOAD"\n';

async function tokenFor(dag: string, name = "ci") {
  const r = await extApi("POST", `/dags/${dag}/webhook-tokens`, { name }, CreateWebhookTokenResponse);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; token: string };
}

/** POST /webhooks/{dag} as an outside system would: its token, a raw body. */
async function trigger(dag: string, token: string | undefined, body: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await exports.default.fetch(`http://dagflare.test/api/v2/webhooks/${dag}`, {
    method: "POST",
    headers,
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("webhooks in", () => {
  it("starts a run of the DAG whose WEBHOOK_PAYLOAD param is the posted JSON", async () => {
    await createDag("hooked", SPEC);
    const { token } = await tokenFor("hooked");
    const r = await trigger("hooked", token, JSON.stringify({ ref: "main", commits: [1, 2] }));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ dagRunId: expect.any(String), dagName: "hooked" });
    const [l] = await lease();
    expect(l.runId).toBe(r.body.dagRunId);
    expect(JSON.parse(l.exec.env.WEBHOOK_PAYLOAD)).toEqual({ ref: "main", commits: [1, 2] });
    await complete(l, 0);
  });

  it("takes the `payload` field as the payload and `dagRunId` as the run's id, once", async () => {
    await createDag("hooked-id", SPEC);
    const { token } = await tokenFor("hooked-id");
    const body = JSON.stringify({ payload: { n: 1 }, dagRunId: "delivery-42" });
    const r = await trigger("hooked-id", token, body);
    expect(r.body.dagRunId).toBe("delivery-42");
    const [l] = await lease();
    expect(l.exec.env.WEBHOOK_PAYLOAD).toBe('{"n":1}');
    await complete(l, 0);
    expect((await trigger("hooked-id", token, body)).status).toBe(409);
  });

  it("shows a token once and lists tokens without it", async () => {
    await createDag("listed", SPEC);
    const { id, token } = await tokenFor("listed", "github");
    expect(token).toMatch(/^dfw_[0-9a-f]{12}_[0-9a-f]{40}$/);
    const list = await extApi("GET", "/dags/listed/webhook-tokens", undefined, WebhookTokenList);
    expect(list.body.webhookTokens).toEqual([expect.objectContaining({ id, name: "github", dagName: "listed" })]);
    expect(JSON.stringify(list.body)).not.toContain(token.slice(17));
  });

  it("refuses a wrong, foreign or revoked token, or a missing DAG, with the same 401", async () => {
    await createDag("guarded", SPEC);
    await createDag("other", SPEC);
    const mine = await tokenFor("guarded");
    const theirs = await tokenFor("other");
    const refusal = { code: "unauthorized", message: "invalid webhook token (Authorization: Bearer <token>)" };
    expect(await trigger("guarded", undefined, "{}")).toEqual({ status: 401, body: refusal });
    expect(await trigger("guarded", `${mine.token.slice(0, -4)}0000`, "{}")).toEqual({ status: 401, body: refusal });
    expect(await trigger("guarded", theirs.token, "{}")).toEqual({ status: 401, body: refusal });
    expect(await trigger("no-such-dag", mine.token, "{}")).toEqual({ status: 401, body: refusal });
    const revoked = await extApi("DELETE", `/dags/guarded/webhook-tokens/${mine.id}`, undefined, WebhookTokenInfo);
    expect(revoked.body.revokedAt).toBeDefined();
    expect(await trigger("guarded", mine.token, "{}")).toEqual({ status: 401, body: refusal });
    expect((await api("GET", "/dags/guarded/dag-runs")).body.dagRuns).toEqual([]);
  });

  it("refuses a body that is not JSON with 400 and starts nothing", async () => {
    await createDag("picky", SPEC);
    const { token } = await tokenFor("picky");
    const r = await trigger("picky", token, "{not json");
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^the body is not valid JSON/);
    expect((await api("GET", "/dags/picky/dag-runs")).body.dagRuns).toEqual([]);
  });

  it(`refuses a body over ${MAX_WEBHOOK_PAYLOAD_BYTES} bytes with 413`, async () => {
    await createDag("big", SPEC);
    const { token } = await tokenFor("big");
    const r = await trigger("big", token, JSON.stringify({ blob: "x".repeat(MAX_WEBHOOK_PAYLOAD_BYTES) }));
    expect(r.status).toBe(413);
    expect((await api("GET", "/dags/big/dag-runs")).body.dagRuns).toEqual([]);
  });

  it("lets a manager manage tokens, not a developer", async () => {
    await createDag("managed", SPEC);
    const key = async (role: string) =>
      (await extApi("POST", "/api-keys", { name: role, role }, CreateApiKeyResponse)).body.key as string;
    const body = { name: "x" };
    const developer = await key("developer");
    expect(
      (await extApi("POST", "/dags/managed/webhook-tokens", body, CreateWebhookTokenResponse, developer)).status,
    ).toBe(403);
    const manager = await key("manager");
    expect(
      (await extApi("POST", "/dags/managed/webhook-tokens", body, CreateWebhookTokenResponse, manager)).status,
    ).toBe(201);
  });
});
