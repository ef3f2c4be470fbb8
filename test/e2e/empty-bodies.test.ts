// Answers without a body under `wrangler dev` say so with `Content-Length: 0`: Dagu's web client
// reads any other answer as JSON and fails on the empty text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, USER_TOKEN, waitFor } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["runner-empty"] });
});

afterAll(async () => {
  await stack?.stop();
});

/** A call whose answer must be an empty 200 with Content-Length: 0 and no encoding. */
async function expectEmpty(method: string, path: string, body: unknown) {
  const res = await fetch(`${stack.url}/api/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${USER_TOKEN}`,
      "content-type": "application/json",
      "accept-encoding": "gzip, br",
    },
    body: JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(200);
  expect(res.headers.get("content-length"), `${method} ${path}`).toBe("0");
  // Not compressed: no encoding, or the identity one.
  expect(res.headers.get("content-encoding") ?? "identity", `${method} ${path}`).toBe("identity");
  expect(await res.text()).toBe("");
}

describe("empty answers under wrangler dev", () => {
  it("carry Content-Length: 0 for suspend, rename, stop, retry and a step's status", async () => {
    const runId = await startDagRun(stack, "empty-a", "steps:\n  - name: wait\n    command: sleep 30\n");
    await waitFor("the step to run", async () => {
      const r = await stack.api("GET", `/dag-runs/empty-a/${runId}`);
      return r.body.dagRunDetails.nodes[0].statusLabel === "running";
    });
    await expectEmpty("POST", `/dag-runs/empty-a/${runId}/stop`, {});
    await runEnded(stack, "empty-a", runId);
    await expectEmpty("PATCH", `/dag-runs/empty-a/${runId}/steps/wait/status`, { status: 4 });
    await expectEmpty("POST", "/dags/empty-a/suspend", { suspend: true });
    await expectEmpty("POST", "/dags/empty-a/rename", { newFileName: "empty-b" });
    await expectEmpty("POST", `/dag-runs/empty-b/${runId}/retry`, { dagRunId: runId, stepName: "wait" });
    await expectEmpty("POST", `/dag-runs/empty-b/${runId}/stop`, {});
  });
});
