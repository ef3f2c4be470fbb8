// Sub-DAG calls through the API: a call step's child is a run of its own, reached through the
// parent's sub-dag-runs endpoints; the parent mirrors its end and sees its outputs.
import { describe, expect, it } from "vitest";
import { api, complete, createDag, details, lease, nodeOf, runnerApi, startDag } from "./helpers";

const PARENT = `steps:
  - name: produce
    command: echo
    output: VAL
  - name: call-worker
    call: worker
    params:
      N: \${VAL}
      FIXED: "a b"
    output: RES
  - name: use
    command: echo \${RES.outputs.DOUBLE}
---
name: worker
params:
  - N: "0"
  - FIXED: x
steps:
  - name: double
    command: echo $((N * 2))
    output: DOUBLE
`;

async function leaseOne(stepName: string) {
  const [l] = await lease();
  expect(l?.stepName).toBe(stepName);
  return l;
}

describe("sub-DAG calls", () => {
  it("runs a local DAG as a sub-DAG run with params, and gives the parent its outputs", async () => {
    await createDag("parent", PARENT);
    const shown = await api("GET", "/dags/parent");
    expect(shown.body.localDags.map((l: { name: string }) => l.name)).toEqual(["worker"]);

    const runId = await startDag("parent");
    await complete(await leaseOne("produce"), 0, { output: "21" });
    const child = await leaseOne("double");
    expect(child.dagName).toBe("worker");
    expect(child.exec.env).toMatchObject({ N: "21", FIXED: "a b" });
    const parentNode = nodeOf(await details("parent", runId), "call-worker");
    expect(parentNode.statusLabel).toBe("running");
    expect(parentNode.subRuns).toEqual([{ dagRunId: child.runId }]);
    await complete(child, 0, { output: "42" });

    const use = await leaseOne("use");
    expect(use.exec.command).toBe("echo 42");
    await complete(use, 0);
    const d = await details("parent", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(nodeOf(d, "call-worker").statusLabel).toBe("succeeded");

    const subs = await api("GET", `/dag-runs/parent/${runId}/sub-dag-runs`);
    expect(subs.body.subRuns).toEqual([
      expect.objectContaining({ dagRunId: child.runId, statusLabel: "succeeded", params: "N=21 'FIXED=a b'" }),
    ]);
    const sub = await api("GET", `/dag-runs/parent/${runId}/sub-dag-runs/${child.runId}`);
    expect(sub.body.dagRunDetails).toMatchObject({
      name: "worker",
      statusLabel: "succeeded",
      rootDAGRunName: "parent",
      rootDAGRunId: runId,
      parentDAGRunName: "parent",
      parentDAGRunId: runId,
    });
    const log = await api("GET", `/dag-runs/parent/${runId}/sub-dag-runs/${child.runId}/log`);
    expect(log.body.content).toContain("run succeeded");
    const stepLog = await api("GET", `/dag-runs/parent/${runId}/sub-dag-runs/${child.runId}/steps/double/log`);
    expect(stepLog.status).toBe(200);
    // Sub-DAG runs are not in the history lists; they are reached through their parent.
    const history = await api("GET", "/dag-runs?name=worker");
    expect(history.body.dagRuns).toEqual([]);
    const other = await api("GET", `/dag-runs/parent/${runId}/sub-dag-runs/not-a-run`);
    expect(other.status).toBe(404);
  });

  it("fails the call step when the sub-DAG run fails, and the run with it", async () => {
    await createDag("fails-child", "steps:\n  - name: boom\n    command: exit 3\n");
    await createDag(
      "calls-failing",
      "steps:\n  - name: c\n    call: fails-child\n  - name: after\n    command: echo\n",
    );
    const runId = await startDag("calls-failing");
    await complete(await leaseOne("boom"), 3);
    const d = await details("calls-failing", runId);
    expect(nodeOf(d, "c").statusLabel).toBe("failed");
    expect(nodeOf(d, "c").error).toMatch(/^sub-DAG run \S+ of fails-child failed$/);
    expect(nodeOf(d, "after").statusLabel).toBe("aborted");
    expect(d.statusLabel).toBe("failed");
  });

  it("fails the call step with a clear error when the called DAG does not exist", async () => {
    await createDag("calls-nothing", "steps:\n  - name: c\n    call: no-such-dag\n");
    const runId = await startDag("calls-nothing");
    const d = await details("calls-nothing", runId);
    expect(nodeOf(d, "c").error).toBe("the called DAG no-such-dag does not exist");
    expect(d.statusLabel).toBe("failed");
  });

  it("stops the sub-DAG run when the parent is stopped", async () => {
    await createDag("slow-child", "steps:\n  - name: sleep\n    command: sleep 60\n");
    await createDag("calls-slow", "steps:\n  - name: c\n    call: slow-child\n");
    const runId = await startDag("calls-slow");
    const l = await leaseOne("sleep");
    expect((await api("POST", `/dag-runs/calls-slow/${runId}/stop`)).status).toBe(200);
    const hb = await runnerApi(`/leases/${l.leaseId}/heartbeat`, { token: l.token });
    expect(hb.body.cancel).toBe(true);
    await complete(l, -1, { cancelled: true, signal: "SIGTERM" });
    const child = await details("slow-child", l.runId);
    expect(child.statusLabel).toBe("aborted");
    const d = await details("calls-slow", runId);
    expect(nodeOf(d, "c").statusLabel).toBe("aborted");
    expect(d.statusLabel).toBe("aborted");
  });

  it("sets a step's status in a sub-DAG run through the parent", async () => {
    await createDag("fails-child2", "steps:\n  - name: boom\n    command: exit 1\n");
    await createDag("calls-failing2", "steps:\n  - name: c\n    call: fails-child2\n");
    const runId = await startDag("calls-failing2");
    const l = await leaseOne("boom");
    await complete(l, 1);
    const path = `/dag-runs/calls-failing2/${runId}/sub-dag-runs/${l.runId}`;
    expect((await api("PATCH", `${path}/steps/boom/status`, { status: 4 })).status).toBe(200);
    expect((await api("GET", path)).body.dagRunDetails.statusLabel).toBe("succeeded");
  });
});

describe("validating a DAG that calls others", () => {
  it("warns about a call to a DAG that is neither in the file nor stored", async () => {
    await createDag("exists-already", "steps:\n  - echo\n");
    const spec = `steps:
  - name: a
    call: exists-already
  - name: b
    call: local-one
  - name: c
    call: not-there
---
name: local-one
steps:
  - echo
`;
    const r = await api("POST", "/dags/validate", { spec, name: "caller" });
    expect(r.body.valid).toBe(true);
    expect(r.body.warnings).toEqual([
      "steps.c.call: DAG not-there does not exist (yet); the step fails if it does not when it runs",
    ]);
  });
});

describe("fan-out over sub-DAG calls", () => {
  it("starts one sub-DAG run per item of an output variable, each with its ITEM in params", async () => {
    await createDag("per-item", "params: WHO=nobody\nsteps:\n  - name: greet\n    command: echo $WHO\n");
    await createDag(
      "fans-calls",
      `type: graph
steps:
  - name: list
    command: echo
    output: NAMES
  - name: each
    depends: list
    call: per-item
    params: WHO=\${ITEM}
    parallel: \${NAMES}
`,
    );
    const runId = await startDag("fans-calls");
    await complete(await leaseOne("list"), 0, { output: '["ann","bob"]' });
    const greets = [await leaseOne("greet"), await leaseOne("greet")];
    expect(greets.map((g) => g.exec.env.WHO).sort()).toEqual(["ann", "bob"]);
    for (const g of greets) await complete(g, 0);
    const d = await details("fans-calls", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(nodeOf(d, "each[1]").subRuns).toHaveLength(1);
    expect(nodeOf(d, "each[2]").subRuns).toHaveLength(1);
    const subs = await api("GET", `/dag-runs/fans-calls/${runId}/sub-dag-runs`);
    expect(subs.body.subRuns.map((r: { params: string }) => r.params).sort()).toEqual(["WHO=ann", "WHO=bob"]);
  });

  it("gives each child its item as params when the call has none: a string as Dagu's params text, a mapping as named params", async () => {
    await createDag("item-child", "params: REGION=none\nsteps:\n  - name: show\n    command: echo $REGION $1\n");
    await createDag(
      "items-caller",
      `steps:
  - name: each
    call: item-child
    parallel:
      items:
        - first
        - REGION: eu
`,
    );
    const runId = await startDag("items-caller");
    const shows = [await leaseOne("show"), await leaseOne("show")];
    const seen = shows.map((g) => [g.exec.env.REGION, g.exec.args]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ["none", ["first"]],
        ["eu", []],
      ]),
    );
    for (const g of shows) await complete(g, 0);
    const d = await details("items-caller", runId);
    // Dagu's shape: one node for the parallel step, its children in subRuns with the params each got.
    expect(d.nodes.map((n: { step: { name: string } }) => n.step.name)).toEqual(["each"]);
    const each = nodeOf(d, "each");
    expect(each.statusLabel).toBe("succeeded");
    expect(each.subRuns).toEqual([
      { dagRunId: nodeOf(d, "each[1]").subRuns[0].dagRunId, params: "first" },
      { dagRunId: nodeOf(d, "each[2]").subRuns[0].dagRunId, params: '{"REGION":"eu"}' },
    ]);
  });
});
