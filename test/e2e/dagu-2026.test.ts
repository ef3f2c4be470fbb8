// A DAG file in current Dagu's form (snake_case keys, run:, namespaced references, an output
// handed from one step to the next), sent by a client of current Dagu through /api/v1 and run
// by real runner processes.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack, TERMINAL, tempDir, USER_TOKEN, waitFor } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["now-a"] });
});

afterAll(async () => {
  await stack?.stop();
});

async function v1(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}/api/v1${p}`, {
    method,
    headers: { authorization: `Bearer ${USER_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const SPEC = `type: graph
params:
  - target: eu
env:
  - OUT_DIR: $DIR
handler_on:
  exit:
    run: echo "exit of \${context.dag.name}" > \${env.OUT_DIR}/exit
steps:
  - id: build
    run: |
      tag=v$((6+1))
      echo "$tag"
    output: TAG
  - id: deploy
    depends: [build]
    retry_policy:
      limit: 1
      interval_sec: 0
    run:
      - echo deploying \${steps.build.outputs.TAG} to \${params.target}
      - echo "\${steps.build.outputs.TAG}-\${params.target}" > \${env.OUT_DIR}/deployed
  - id: stops_early
    depends: [build]
    continue_on:
      failure: true
    run:
      - "false"
      - echo never > \${env.OUT_DIR}/never
`;

describe("a DAG in current Dagu's form through /api/v1", () => {
  it("runs on real runners with its references resolved and an output handed between steps", async () => {
    const dir = tempDir("dagu-2026");
    const created = await v1("POST", "/dags", { name: "now2026", spec: SPEC.replace("$DIR", dir) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await v1("POST", "/dags/now2026/start", { params: "target=us" });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const runId = started.body.dagRunId as string;

    const run = await waitFor(`run ${runId} to end`, async () => {
      const r = await v1("GET", `/dag-runs/now2026/${runId}`);
      return TERMINAL.has(r.body.dagRunDetails.statusLabel) ? r.body.dagRunDetails : undefined;
    });
    const status = Object.fromEntries(
      run.nodes.map((n: { step: { name: string }; statusLabel: string }) => [n.step.name, n.statusLabel]),
    );
    expect(status).toEqual({ build: "succeeded", deploy: "succeeded", stops_early: "failed" });
    // A covered failure beside successes, as in Dagu.
    expect(run.statusLabel).toBe("partially_succeeded");

    const log = await v1("GET", `/dag-runs/now2026/${runId}/steps/deploy/log`);
    expect(log.body.content).toBe("deploying v7 to us");
    expect(readFileSync(path.join(dir, "deployed"), "utf8")).toBe("v7-us\n");
    // A list of commands stops at the first that fails.
    expect(existsSync(path.join(dir, "never"))).toBe(false);
    await waitFor("the exit handler's file", async () => existsSync(path.join(dir, "exit")));
    expect(readFileSync(path.join(dir, "exit"), "utf8")).toBe("exit of now2026\n");
  });
});
