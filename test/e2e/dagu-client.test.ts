// Dagu's web client, call by call, against `wrangler dev` and real runners: every answer read the
// way that client reads it (an answer with `Content-Length: 0` or 204 has no body, any other is
// parsed as JSON), through the calls where a Dagu client used to trip.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, stepLogText, USER_TOKEN, waitFor } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["runner-dagu-client"] });
});

afterAll(async () => {
  await stack?.stop();
});

/** One call as Dagu's web client makes it; fails when the answer cannot be read that way. */
async function client(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}/api/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${USER_TOKEN}`,
      "content-type": "application/json",
      "accept-encoding": "gzip, deflate, br",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204 || res.headers.get("content-length") === "0") {
    expect(await res.text(), `${method} ${path}`).toBe("");
    return { status: res.status, body: undefined };
  }
  return { status: res.status, body: await res.json() };
}

const CHAIN = `dotenv: [not-there.env]
handlerOn:
  success:
    command: echo handled
steps:
  - name: a
    command: echo alpha
  - name: b
    command: echo beta
  - name: c
    command: echo gamma
    depends: a
`;

describe("a Dagu client's calls", () => {
  it("reads a DAG before and after its first run as Dagu serves it", async () => {
    expect((await client("POST", "/dags", { name: "client-chain", spec: CHAIN })).status).toBe(201);
    // Never ran: empty ids and times (Dagu's client offers no retry without a run id).
    const before = (await client("GET", "/dags/client-chain")).body.latestDAGRun;
    expect(before).toMatchObject({ dagRunId: "", startedAt: "", finishedAt: "" });

    const started = await client("POST", "/dags/client-chain/start", {});
    const runId = started.body.dagRunId as string;
    const d = await runEnded(stack, "client-chain", runId);
    // The missing dotenv file was skipped, with a line in the step's log.
    expect(d.statusLabel).toBe("succeeded");
    expect(await stepLogText(stack, "client-chain", runId, "a", "stderr")).toContain(
      "not-there.env not found; skipped",
    );
    // A chain step with its own depends follows the step before it too, in the graph served.
    expect(d.nodes.find((n: { step: { name: string } }) => n.step.name === "c").step.depends).toEqual(["a", "b"]);
    // A log's content is the step's lines, no empty line after them.
    expect((await client("GET", `/dag-runs/client-chain/${runId}/steps/c/log?tail=100`)).body.content).toBe("gamma");

    const history = (await client("GET", "/dags/client-chain/dag-runs")).body;
    expect(history.gridData.map((g: { name: string }) => g.name)).toEqual(["a", "b", "c", "onSuccess"]);
    const listed = (await client("GET", "/dag-runs?name=nt-cha")).body.dagRuns;
    expect(listed.map((r: { dagRunId: string }) => r.dagRunId)).toEqual([runId]);
    const found = (await client("GET", "/dags/search?q=ECHO%20gam")).body.results;
    expect(found).toEqual([
      expect.objectContaining({
        name: "client-chain",
        matches: [
          {
            line: "    command: echo beta\n  - name: c\n    command: echo gamma\n    depends: a",
            lineNumber: 11,
            startLine: 9,
          },
        ],
      }),
    ]);
    expect((await client("GET", "/services/resources/history?duration=30m")).body).toEqual({
      cpu: [],
      memory: [],
      disk: [],
      load: [],
    });
  });

  it("reads every empty answer: dequeue, stop, a step's status, retry, suspend, rename", async () => {
    const spec = "maxActiveRuns: 1\nsteps:\n  - name: wait\n    command: sleep 30\n";
    const first = await startDagRun(stack, "client-busy", spec);
    await waitFor("the first run to run", async () => {
      const r = await client("GET", `/dag-runs/client-busy/${first}`);
      return r.body.dagRunDetails.nodes[0].statusLabel === "running";
    });
    const queued = (await client("POST", "/dags/client-busy/enqueue", {})).body.dagRunId as string;
    expect((await client("GET", `/dag-runs/client-busy/${queued}`)).body.dagRunDetails.statusLabel).toBe("queued");

    expect((await client("GET", `/dag-runs/client-busy/${queued}/dequeue`)).status).toBe(200);
    expect((await client("POST", `/dag-runs/client-busy/${first}/stop`, {})).status).toBe(200);
    await runEnded(stack, "client-busy", first);
    expect((await client("PATCH", `/dag-runs/client-busy/${first}/steps/wait/status`, { status: 4 })).status).toBe(200);
    expect((await client("POST", `/dag-runs/client-busy/${first}/retry`, { dagRunId: first })).status).toBe(200);
    expect((await client("POST", `/dag-runs/client-busy/${first}/stop`, {})).status).toBe(200);
    await runEnded(stack, "client-busy", first);
    expect((await client("POST", "/dags/client-busy/suspend", { suspend: true })).status).toBe(200);
    expect((await client("POST", "/dags/client-busy/rename", { newFileName: "client-idle" })).status).toBe(200);
    expect((await client("DELETE", "/dags/client-idle")).status).toBe(204);
  });
});
