// Routing: a step goes only to runners whose labels match its workerSelector, and only to
// runners of its pool; a step that no live runner can take says so in the run details.
import { describe, expect, it } from "vitest";
import { api, complete, createDag, details, nodeOf, runnerApi, startDag } from "./helpers";

async function leaseAs(runnerId: string, labels: Record<string, string>, max = 4) {
  const r = await runnerApi<{ leases: any[] }>("/lease", { runnerId, labels, max, waitMs: 0 });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.leases;
}

async function report(runnerId: string, labels: Record<string, string>) {
  expect((await runnerApi("/heartbeat", { runnerId, labels, totalSlots: 2 })).status).toBe(200);
}

describe("workerSelector and pools", () => {
  it("gives a step only to a runner whose labels match its selector", async () => {
    await createDag(
      "gpu-only",
      "steps:\n  - name: train\n    command: echo train\n    workerSelector: {gpu: 'true'}\n",
    );
    const runId = await startDag("gpu-only");
    expect(await leaseAs("cpu-box", { gpu: "false" })).toEqual([]);
    expect(await leaseAs("plain-box", {})).toEqual([]);
    const [l] = await leaseAs("gpu-box", { gpu: "true", os: "linux" });
    expect(l).toMatchObject({ runId, stepName: "train" });
    expect((await complete(l, 0)).body.accepted).toBe(true);
    expect((await details("gpu-only", runId)).statusLabel).toBe("succeeded");
  });

  it("merges a step's selector over the DAG's", async () => {
    await createDag(
      "eu-gpu",
      "workerSelector: {region: eu}\nsteps:\n  - command: echo a\n    workerSelector: {gpu: 'true'}\n",
    );
    const runId = await startDag("eu-gpu");
    expect(await leaseAs("us-gpu", { region: "us", gpu: "true" })).toEqual([]);
    expect(await leaseAs("eu-cpu", { region: "eu" })).toEqual([]);
    const [l] = await leaseAs("eu-gpu-box", { region: "eu", gpu: "true" });
    expect(l?.runId).toBe(runId);
    await complete(l, 0);
  });

  it("keeps each pool's steps to its own runners, both ways", async () => {
    await createDag("team-a-job", "workerSelector: {pool: team-a}\nsteps:\n  - echo a\n");
    await createDag("default-job", "steps:\n  - echo d\n");
    const aRun = await startDag("team-a-job");
    const dRun = await startDag("default-job");
    const fromDefault = await leaseAs("default-box", {});
    expect(fromDefault.map((l) => l.runId)).toEqual([dRun]);
    await complete(fromDefault[0], 0);
    const fromA = await leaseAs("team-a-box", { pool: "team-a" });
    expect(fromA.map((l) => l.runId)).toEqual([aRun]);
    await complete(fromA[0], 0);
    expect((await details("team-a-job", aRun)).statusLabel).toBe("succeeded");
  });

  it("sends a DAG's handlers to its pool, as its steps", async () => {
    await createDag(
      "team-b-job",
      "workerSelector: {pool: team-b}\nhandlerOn:\n  exit: {command: echo bye}\nsteps:\n  - echo b\n",
    );
    const runId = await startDag("team-b-job");
    const [step] = await leaseAs("team-b-box", { pool: "team-b" }, 1);
    expect(step?.stepName).toBe("step_1");
    await complete(step, 0);
    expect(await leaseAs("default-box", {})).toEqual([]);
    const [handler] = await leaseAs("team-b-box", { pool: "team-b" });
    expect(handler).toMatchObject({ runId, stepName: "onExit" });
    await complete(handler, 0);
    expect((await details("team-b-job", runId)).statusLabel).toBe("succeeded");
  });

  it("says in the run details that no live runner matches a waiting step, until one reports", async () => {
    await createDag("needs-fpga", "steps:\n  - name: flash\n    command: echo f\n    workerSelector: {fpga: 'yes'}\n");
    const runId = await startDag("needs-fpga");
    await report("plain-reporter", {});
    const waiting = nodeOf(await details("needs-fpga", runId), "flash");
    expect(waiting.statusLabel).toBe("not_started");
    expect(waiting.error).toBe("waiting: no live runner matches {pool=default, fpga=yes}");

    await report("fpga-reporter", { fpga: "yes" });
    expect(nodeOf(await details("needs-fpga", runId), "flash").error).toBeUndefined();
    const [l] = await leaseAs("fpga-reporter", { fpga: "yes" });
    await complete(l, 0);
  });

  it("says so on a handler and on the DAG precondition check that no live runner matches", async () => {
    await createDag(
      "tpu-handler",
      "handlerOn:\n  exit: {command: echo bye, workerSelector: {tpu: 'v5'}}\nsteps:\n  - name: a\n    command: echo a\n",
    );
    const runId = await startDag("tpu-handler");
    await report("plain-handler-box", {});
    const [a] = await leaseAs("plain-handler-box", {});
    await complete(a, 0);
    const d = await details("tpu-handler", runId);
    expect(d.onExit.error).toBe("waiting: no live runner matches {pool=default, tpu=v5}");

    await createDag(
      "tpu-check",
      "workerSelector: {tpu: 'v5'}\npreconditions:\n  - condition: test -d /\nsteps:\n  - echo c\n",
    );
    const checkRun = await startDag("tpu-check");
    const check = await details("tpu-check", checkRun);
    expect(check.preconditions).toEqual([
      { condition: "test -d /", error: "waiting: no live runner matches {pool=default, tpu=v5}" },
    ]);
  });

  it("says so on an instance a fan-out step added at run time", async () => {
    await createDag(
      "tpu-fan",
      "type: graph\nsteps:\n  - name: gen\n    command: echo\n    output: L\n  - name: fan\n    depends: gen\n    command: echo $ITEM\n    parallel: ${L}\n    workerSelector: {tpu: 'v6'}\n",
    );
    const runId = await startDag("tpu-fan");
    await report("plain-fan-box", {});
    const [gen] = await leaseAs("plain-fan-box", {});
    await complete(gen, 0, { output: '["x"]' });
    const d = await details("tpu-fan", runId);
    expect(nodeOf(d, "fan[1]").error).toBe("waiting: no live runner matches {pool=default, tpu=v6}");
  });

  it("hands a finished step's successor to the same runner only when the runner matches it", async () => {
    await createDag(
      "prep-then-gpu",
      "steps:\n  - name: prep\n    command: echo p\n  - name: train\n    command: echo t\n    workerSelector: {gpu: 'true'}\n",
    );
    const runId = await startDag("prep-then-gpu");
    const [prep] = await leaseAs("cpu-chain", {}, 1);
    expect(prep?.stepName).toBe("prep");
    const done = await complete(prep, 0, { next: { runnerId: "cpu-chain", labels: {}, max: 1 } });
    expect(done.body.accepted).toBe(true);
    expect(done.body.next).toEqual([]);
    expect(nodeOf(await details("prep-then-gpu", runId), "train").statusLabel).toBe("not_started");
    const [train] = await leaseAs("gpu-chain", { gpu: "true" }, 1);
    expect(train?.stepName).toBe("train");
    await complete(train, 0);
    expect((await details("prep-then-gpu", runId)).statusLabel).toBe("succeeded");
  });

  it("lists the runners of every pool in GET /workers", async () => {
    await report("pool-x-runner", { pool: "x" });
    await report("pool-default-runner", {});
    const r = await api("GET", "/workers");
    const ids = r.body.workers.map((w: { id: string }) => w.id);
    expect(ids).toEqual(expect.arrayContaining(["pool-x-runner", "pool-default-runner"]));
    expect(r.body.workers.find((w: { id: string }) => w.id === "pool-x-runner").labels).toEqual({ pool: "x" });
  });
});
