// Starts with a context and a parameter set, and through an incoming webhook, run on a real
// runner process: each step prints what it was given.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startStack, stepLogText } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["inputs-runner"] });
});

afterAll(async () => {
  await stack?.stop();
});

async function ok(method: string, path: string, body?: unknown) {
  const r = await stack.api(method, path, body);
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body;
}

describe("starting runs with named inputs", () => {
  it("runs a step that sees the context's variables and the parameter set's params", async () => {
    await ok("POST", "/dags", {
      name: "deploy",
      spec: `params:
  - TARGET: nowhere
  - RETRIES: "0"
env:
  - ENDPOINT: https://\${REGION}.example
steps:
  - name: show
    command: echo "region=$REGION tier=$TIER endpoint=$ENDPOINT target=$TARGET retries=$RETRIES"
`,
    });
    await ok("POST", "/contexts", { name: "shared", variables: { REGION: "us", TIER: "gold" } });
    await ok("POST", "/contexts", { name: "europe", variables: { REGION: "eu" }, extends: "shared" });
    await ok("POST", "/parameter-sets", { name: "careful", params: { TARGET: "fleet", RETRIES: "3" } });
    const { dagRunId } = await ok("POST", "/dags/deploy/start", {
      context: "europe",
      parameterSet: "careful",
      params: "RETRIES=5",
    });
    expect((await runEnded(stack, "deploy", dagRunId)).statusLabel).toBe("succeeded");
    expect(await stepLogText(stack, "deploy", dagRunId, "show")).toBe(
      "region=eu tier=gold endpoint=https://eu.example target=fleet retries=5",
    );
  });

  it("runs a step that prints the JSON posted to the DAG's incoming webhook", async () => {
    await ok("POST", "/dags", {
      name: "on-push",
      spec: `steps:
  - name: payload
    command: printf '%s\\n' "$WEBHOOK_PAYLOAD"
`,
    });
    const { token } = await ok("POST", "/dags/on-push/webhook-tokens", { name: "git host" });
    const res = await fetch(`${stack.url}/api/v2/webhooks/on-push`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ ref: "refs/heads/main", pusher: { name: "ada" } }),
    });
    expect(res.status).toBe(200);
    const { dagRunId } = (await res.json()) as { dagRunId: string };
    expect((await runEnded(stack, "on-push", dagRunId)).statusLabel).toBe("succeeded");
    expect(await stepLogText(stack, "on-push", dagRunId, "payload")).toBe(
      '{"ref":"refs/heads/main","pusher":{"name":"ada"}}',
    );
  });
});
