// `parallel` whose items come from an output variable, through the API and the runner protocol.

import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStub } from "../../src/stubs";
import { api, complete, createDag, details, lease, nodeOf, runnerApi, startDag } from "./helpers";

const SPEC = `type: graph
steps:
  - name: gen
    command: ./list.sh
    output: LIST
  - name: fan
    depends: gen
    command: echo "item=$ITEM"
    parallel:
      items: \${LIST}
      maxConcurrent: 2
  - name: after
    depends: fan
    command: echo done
`;

const names = (d: { nodes: Array<{ step: { name: string } }> }) => d.nodes.map((n) => n.step.name);
const instanceNames = (d: { nodes: Array<{ step: { name: string } }> }, step: string) =>
  nodeOf(d, step).instances.map((n: { step: { name: string } }) => n.step.name);
const stepLog = async (dag: string, runId: string, step: string) =>
  (await api("GET", `/dag-runs/${dag}/${runId}/steps/${encodeURIComponent(step)}/log`)).body.content;

describe("parallel items from an output variable", () => {
  it("fans out into one node per item, leased with ITEM, each with its own log; the dependent runs after all", async () => {
    await createDag("fan-out", SPEC);
    const runId = await startDag("fan-out");
    const [gen] = await lease();
    let d = await details("fan-out", runId);
    expect(names(d)).toEqual(["gen", "fan", "after"]);
    expect(nodeOf(d, "fan").step.parallel).toEqual({ items: "${LIST}", maxConcurrent: 2 });
    await complete(gen, 0, { output: '["a", "b", {"k": 1}]' });

    d = await details("fan-out", runId);
    // One node for the parallel step, as Dagu shows it; its instances under it.
    expect(names(d)).toEqual(["gen", "fan", "after"]);
    expect(instanceNames(d, "fan")).toEqual(["fan[1]", "fan[2]", "fan[3]"]);
    expect(nodeOf(d, "fan").statusLabel).toBe("running");
    // maxConcurrent: 2 of the 3 instances are handed out.
    const first = await lease(5);
    expect(first.map((l: { stepName: string }) => l.stepName).sort()).toEqual(["fan[1]", "fan[2]"]);
    const byName: Record<string, any> = Object.fromEntries(first.map((l: { stepName: string }) => [l.stepName, l]));
    expect(byName["fan[2]"].exec.env.ITEM).toBe("b");
    // Lease ids index the run's steps: gen, fan, after, then the instances in the order added.
    expect(byName["fan[1]"].leaseId).toBe(`${runId}.3.1`);
    expect(nodeOf(await details("fan-out", runId), "fan[1]").leaseId).toBe(`${runId}.3.1`);

    const l2 = byName["fan[2]"];
    await runnerApi(`/leases/${l2.leaseId}/logs`, {
      token: l2.token,
      entries: [{ seq: 1, stream: "stdout", text: "item=b\n" }],
    });
    await complete(l2, 0);
    const [third] = await lease(5);
    expect(third.stepName).toBe("fan[3]");
    expect(third.exec.env.ITEM).toBe('{"k":1}');
    await complete(third, 0);
    expect(await lease(5)).toEqual([]);
    expect(nodeOf(await details("fan-out", runId), "after").statusLabel).toBe("not_started");

    await complete(byName["fan[1]"], 0);
    d = await details("fan-out", runId);
    expect(nodeOf(d, "fan").statusLabel).toBe("succeeded");
    expect(nodeOf(d, "fan[2]")).toMatchObject({ statusLabel: "succeeded", attempt: 1 });
    expect(await stepLog("fan-out", runId, "fan[2]")).toBe("item=b");
    const [after] = await lease();
    expect(after.stepName).toBe("after");
    await complete(after, 0);
    expect((await details("fan-out", runId)).statusLabel).toBe("succeeded");
    const runLog = (await api("GET", `/dag-runs/fan-out/${runId}/log`)).body.content;
    expect(runLog).toContain("step fan: parallel items ${LIST} hold 3 item(s); running fan[1] to fan[3]");
  });

  it("keeps its instances when the run's object is evicted and loaded again", async () => {
    await createDag("fan-evict", SPEC);
    const runId = await startDag("fan-evict");
    await complete((await lease())[0], 0, { output: "x y" });
    const leases = await lease(5);
    expect(leases).toHaveLength(2);
    await evictDurableObject(runStub(env, runId));
    // The reloaded run knows the instances by their lease ids, and finishes the fan-out.
    for (const l of leases) expect((await complete(l, 0)).status).toBe(200);
    const d = await details("fan-evict", runId);
    expect(names(d)).toEqual(["gen", "fan", "after"]);
    expect(instanceNames(d, "fan")).toEqual(["fan[1]", "fan[2]"]);
    expect(nodeOf(d, "fan").statusLabel).toBe("succeeded");
    await complete((await lease())[0], 0);
    expect((await details("fan-evict", runId)).statusLabel).toBe("succeeded");
    const one = await api("POST", `/dag-runs/fan-evict/${runId}/retry`, { dagRunId: runId, stepName: "fan[2]" });
    expect(one.status).toBe(400);
    expect(one.body).toMatchObject({
      code: "bad_request",
      message: 'step "fan[2]" is an instance of the fan-out step "fan": retry "fan", which runs every instance again',
      details: { field: "stepName" },
    });
  });

  it("fails the step, naming the variable, when the value is not a list; a retry expands it again", async () => {
    await createDag("fan-bad", SPEC);
    const runId = await startDag("fan-bad");
    await complete((await lease())[0], 0, { output: '{"not": "a list"}' });
    let d = await details("fan-bad", runId);
    expect(d.statusLabel).toBe("failed");
    expect(nodeOf(d, "fan")).toMatchObject({
      statusLabel: "failed",
      error: "parallel items ${LIST}: the value is a JSON object, not a list",
    });
    expect(nodeOf(d, "after").statusLabel).toBe("aborted");
    expect(await lease()).toEqual([]);

    const r = await api("POST", `/dag-runs/fan-bad/${runId}/retry`, { dagRunId: runId });
    expect(r.status).toBe(200);
    await complete((await lease())[0], 0, { output: "[]" });
    d = await details("fan-bad", runId);
    expect(names(d)).toEqual(["gen", "fan", "after"]);
    expect(nodeOf(d, "fan").statusLabel).toBe("succeeded");
    await complete((await lease())[0], 0);
    expect((await details("fan-bad", runId)).statusLabel).toBe("succeeded");
  });
});
