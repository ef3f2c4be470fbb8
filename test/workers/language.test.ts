// The DAG language's control keys through the API, the runner protocol and the run's alarm.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { RunOutputs } from "../../src/shared/protocol";
import { api, complete, createDag, details, extApi, fireRunAlarm, lease, nodeOf, runnerApi, startDag } from "./helpers";

async function runLog(name: string, runId: string): Promise<string> {
  return (await api("GET", `/dag-runs/${name}/${runId}/log`)).body.content;
}

describe("preconditions", () => {
  it("checks the DAG's preconditions on a runner first, and aborts the run when one is unmet", async () => {
    await createDag(
      "dag-pre",
      "preconditions:\n  - condition: '`date +%u`'\n    expected: 're:^[67]$'\nsteps:\n  - name: a\n    command: echo a\n",
    );
    const runId = await startDag("dag-pre");
    const [check] = await lease();
    expect(check.exec.preconditions).toEqual([{ condition: "`date +%u`", expected: "re:^[67]$" }]);
    expect(check.stepName).not.toBe("a");
    await complete(check, null as unknown as number, { preconditionUnmet: '"`date +%u`" gave "3"' });
    const d = await details("dag-pre", runId);
    expect(d.statusLabel).toBe("aborted");
    expect(d.nodes.map((n: { step: { name: string } }) => n.step.name)).toEqual(["a"]);
    expect(nodeOf(d, "a").statusLabel).toBe("skipped");
    expect(d.preconditions).toEqual([
      { condition: "`date +%u`", expected: "re:^[67]$", matched: false, error: '"`date +%u`" gave "3"' },
    ]);
    expect(await lease()).toEqual([]);
    expect(await runLog("dag-pre", runId)).toMatch(/DAG precondition not met: "`date \+%u`" gave "3"/);
  });

  it("runs the DAG's steps once its preconditions hold", async () => {
    await createDag("dag-pre-ok", "preconditions: test -d /\nsteps:\n  - name: a\n    command: echo a\n");
    const runId = await startDag("dag-pre-ok");
    const [check] = await lease();
    const done = await complete(check, 0, { next: { runnerId: "runner-test", max: 1 } });
    const [a] = done.body.next;
    expect(a).toMatchObject({ stepName: "a" });
    await complete(a, 0);
    const d = await details("dag-pre-ok", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(d.preconditions).toEqual([{ condition: "test -d /", matched: true }]);
  });

  it("skips a step whose precondition the runner found unmet, and its dependents", async () => {
    await createDag(
      "step-pre",
      "steps:\n  - name: a\n    command: echo a\n    preconditions: test -f /nope\n  - name: b\n    command: echo b\n",
    );
    const runId = await startDag("step-pre");
    const [a] = await lease();
    expect(a.exec.preconditions).toEqual([{ condition: "test -f /nope" }]);
    await complete(a, null as unknown as number, { preconditionUnmet: '"test -f /nope" exited with 1' });
    const d = await details("step-pre", runId);
    expect(nodeOf(d, "a")).toMatchObject({
      statusLabel: "skipped",
      error: 'precondition not met: "test -f /nope" exited with 1',
    });
    expect(nodeOf(d, "b").statusLabel).toBe("skipped");
    expect(d.statusLabel).toBe("succeeded");
  });
});

describe("timers on the run's alarm", () => {
  it("waits longer before each retry with backoff, capped by maxIntervalSec", async () => {
    await createDag(
      "backoff",
      "steps:\n  - name: t\n    command: exit 1\n    retryPolicy: { limit: 3, intervalSec: 10, backoff: 3, maxIntervalSec: 60 }\n",
    );
    const runId = await startDag("backoff");
    for (let i = 0; i < 3; i++) {
      const [l] = await lease();
      await complete(l, 1);
      expect(await lease()).toEqual([]);
      expect(await fireRunAlarm(runId)).toBe(true);
    }
    const [last] = await lease();
    expect(last.attempt).toBe(4);
    await complete(last, 1);
    expect((await details("backoff", runId)).statusLabel).toBe("failed");
    const log = await runLog("backoff", runId);
    expect(log).toMatch(/retry 1\/3 in 10s/);
    expect(log).toMatch(/retry 2\/3 in 30s/);
    expect(log).toMatch(/retry 3\/3 in 60s/);
  });

  it("repeats a step until its condition holds, one execution per alarm", async () => {
    await createDag(
      "poll",
      "steps:\n  - name: p\n    command: cat /tmp/state\n    repeatPolicy: { repeat: until, condition: '$(cat /tmp/state)', expected: done, intervalSec: 5 }\n",
    );
    const runId = await startDag("poll");
    const [first] = await lease();
    expect(first.exec.repeatCondition).toEqual({ condition: "$(cat /tmp/state)", expected: "done" });
    await complete(first, 0, { repeatConditionMet: false });
    expect(nodeOf(await details("poll", runId), "p")).toMatchObject({ statusLabel: "running", doneCount: 1 });
    expect(await lease()).toEqual([]);
    expect(await fireRunAlarm(runId)).toBe(true);
    const [second] = await lease();
    expect(second.attempt).toBe(2);
    await complete(second, 0, { repeatConditionMet: true });
    const d = await details("poll", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(nodeOf(d, "p")).toMatchObject({ statusLabel: "succeeded", doneCount: 2 });
  });

  it("stops the run at the DAG's timeoutSec and fails it; the lease carries signalOnStop", async () => {
    await createDag("slow", "timeoutSec: 5\nsteps:\n  - name: s\n    command: sleep 60\n    signalOnStop: SIGINT\n");
    const runId = await startDag("slow");
    const [l] = await lease();
    expect(l.exec.signalOnStop).toBe("SIGINT");
    expect((await runnerApi(`/leases/${l.leaseId}/heartbeat`, { token: l.token })).body.cancel).toBe(false);
    expect(await fireRunAlarm(runId)).toBe(true);
    expect((await runnerApi(`/leases/${l.leaseId}/heartbeat`, { token: l.token })).body.cancel).toBe(true);
    await complete(l, null as unknown as number, { signal: "SIGINT", cancelled: true });
    const d = await details("slow", runId);
    expect(d.statusLabel).toBe("failed");
    expect(nodeOf(d, "s").statusLabel).toBe("aborted");
    expect(await runLog("slow", runId)).toMatch(/run timed out after 5s/);
  });

  it("dispatches the first steps only after delaySec, and at most maxActiveSteps at once", async () => {
    await createDag(
      "gated",
      "type: graph\ndelaySec: 3\nmaxActiveSteps: 1\nsteps:\n  - name: a\n    command: 'true'\n  - name: b\n    command: 'true'\n",
    );
    const runId = await startDag("gated");
    expect(await lease(2)).toEqual([]);
    expect(await fireRunAlarm(runId)).toBe(true);
    const first = await lease(2);
    expect(first.map((l: { stepName: string }) => l.stepName)).toEqual(["a"]);
    await complete(first[0], 0);
    const second = await lease(2);
    expect(second.map((l: { stepName: string }) => l.stepName)).toEqual(["b"]);
    await complete(second[0], 0);
    expect((await details("gated", runId)).statusLabel).toBe("succeeded");
  });
});

describe("handlerOn", () => {
  it("runs onFailure then onExit with DAG_RUN_STATUS, shown as the run's handler nodes", async () => {
    await createDag(
      "handled",
      "handlerOn:\n  success: echo ok\n  failure: echo failed $DAG_RUN_STATUS\n  exit: echo bye\nsteps:\n  - name: a\n    command: exit 1\n",
    );
    const runId = await startDag("handled");
    const [a] = await lease();
    expect(a.exec.env.DAG_RUN_STATUS).toBeUndefined();
    await complete(a, 1);
    const during = await details("handled", runId);
    expect(during.statusLabel).toBe("running");
    expect(during.onFailure.statusLabel).toBe("not_started");
    const [onFailure] = await lease();
    expect(onFailure).toMatchObject({ stepName: "onFailure" });
    expect(onFailure.exec.env.DAG_RUN_STATUS).toBe("failed");
    await complete(onFailure, 0);
    const [onExit] = await lease();
    expect(onExit).toMatchObject({ stepName: "onExit" });
    expect(onExit.exec.env.DAG_RUN_STATUS).toBe("failed");
    await complete(onExit, 0);
    const d = await details("handled", runId);
    expect(d.statusLabel).toBe("failed");
    expect(d.nodes.map((n: { step: { name: string } }) => n.step.name)).toEqual(["a"]);
    expect(d.onFailure).toMatchObject({ statusLabel: "succeeded", step: { name: "onFailure" } });
    expect(d.onExit).toMatchObject({ statusLabel: "succeeded" });
    expect(d.onSuccess).toMatchObject({ statusLabel: "not_started" });
    expect(d.onCancel).toBeUndefined();
  });
});

describe("references and outputs", () => {
  it("reports an unresolved reference as a warning of POST /dags/validate, the DAG staying valid", async () => {
    const spec = "env:\n  - OUT: ${BASE}/out\nsteps:\n  - name: a\n    command: echo ${CFG.host}\n";
    const r = await api("POST", "/dags/validate", { spec, name: "refs" });
    expect(r.status).toBe(200);
    expect(r.body.valid).toBe(true);
    expect(r.body.warnings).toEqual([
      "env.OUT: ${BASE} is not a param, env entry, run variable or output; the runner takes it from the .env files, or leaves it as written",
      "steps.a.command: ${CFG.host} names CFG, which is no step's output; it is left as written",
    ]);
  });

  it("hands a later step the JSON path of an earlier output, with the DAG's maxOutputSize", async () => {
    await createDag(
      "jsonpath",
      "maxOutputSize: 4096\nsteps:\n  - name: a\n    command: cat cfg.json\n    output: CFG\n  - name: b\n    command: echo ${CFG.db.hosts[0]}\n",
    );
    await startDag("jsonpath");
    const [a] = await lease();
    expect(a.exec.maxOutputBytes).toBe(4096);
    const done = await complete(a, 0, {
      output: '{"db":{"hosts":["db1","db2"]}}',
      next: { runnerId: "runner-test", max: 1 },
    });
    const [b] = done.body.next;
    expect(b.exec.command).toBe("echo db1");
    expect(b.exec.env.CFG).toBe('{"db":{"hosts":["db1","db2"]}}');
    await complete(b, 0);
  });
});

describe("GET /dag-runs/{name}/{dagRunId}/outputs", () => {
  it("lists every step's output variables as the run captures them", async () => {
    await createDag(
      "outs",
      "steps:\n  - name: a\n    command: echo 1\n    output: A\n  - name: plain\n    command: 'true'\n  - name: b\n    command: echo 2\n    output: B\n",
    );
    const runId = await startDag("outs");
    const path = `/dag-runs/outs/${runId}/outputs`;
    const [a] = await lease();
    await complete(a, 0, { output: "one" });
    const mid = await extApi("GET", path, undefined, RunOutputs);
    expect(mid.status).toBe(200);
    expect(mid.body).toEqual({
      name: "outs",
      dagRunId: runId,
      steps: [
        { step: "a", status: "succeeded", outputs: { A: "one" } },
        { step: "b", status: "not_started", outputs: {} },
      ],
      variables: { A: "one" },
    });
    await complete((await lease())[0], 0);
    await complete((await lease())[0], 0, { output: "two" });
    const end = await extApi("GET", path, undefined, RunOutputs);
    expect(end.body.steps[1]).toEqual({ step: "b", status: "succeeded", outputs: { B: "two" } });
    expect(end.body.variables).toEqual({ A: "one", B: "two" });
    const missing = await extApi("GET", "/dag-runs/outs/no-such-run/outputs", undefined, RunOutputs);
    expect(missing.status).toBe(404);
  });

  it("is described in /openapi.json", async () => {
    const res = await app.request("/api/v2/openapi.json", {}, env);
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    expect(doc.paths["/dag-runs/{name}/{dagRunId}/outputs"]).toMatchObject({ get: { summary: expect.any(String) } });
  });
});

describe("params at start and runConfig", () => {
  it.each([
    ["K=V words", "DAY=2024-02-01 MODE='full load' extra"],
    ["JSON", '{"DAY": "2024-02-01", "MODE": "full load"}'],
  ])("overrides named params given as %s", async (_label, params) => {
    const name = `p-${_label === "JSON" ? "json" : "kv"}`;
    await createDag(name, "params:\n  - DAY: today\n  - MODE: delta\nsteps:\n  - name: a\n    command: echo $DAY\n");
    const runId = await startDag(name, { params });
    const [a] = await lease();
    expect(a.exec.env).toMatchObject({ DAY: "2024-02-01", MODE: "full load" });
    await complete(a, 0);
    expect((await details(name, runId)).statusLabel).toBe("succeeded");
  });

  it("refuses params and a run id at start when runConfig disables them, and starts nothing", async () => {
    const spec =
      "runConfig:\n  disableParamEdit: true\n  disableRunIdEdit: true\nparams: DAY=today\nsteps:\n  - name: a\n    command: echo $DAY\n";
    await createDag("locked", spec);
    const dag = await api("GET", "/dags/locked");
    expect(dag.body.dag.runConfig).toEqual({ disableParamEdit: true, disableRunIdEdit: true });
    const withParams = await api("POST", "/dags/locked/start", { params: "DAY=yesterday" });
    expect(withParams.status).toBe(400);
    expect(withParams.body).toMatchObject({ code: "bad_request", details: { field: "params" } });
    expect(withParams.body.message).toMatch(/disableParamEdit/);
    const withId = await api("POST", "/dags/locked/start", { dagRunId: "my-id" });
    expect(withId.status).toBe(400);
    expect(withId.body.details).toEqual({ field: "dagRunId" });
    const inline = await api("POST", "/dag-runs", { spec, params: "DAY=x" });
    expect(inline.status).toBe(400);
    expect((await api("GET", "/dag-runs/locked")).body.dagRuns).toEqual([]);
    expect(await lease()).toEqual([]);
    const runId = await startDag("locked");
    const [a] = await lease();
    expect(a.exec.env.DAY).toBe("today");
    await complete(a, 0);
    expect((await details("locked", runId)).statusLabel).toBe("succeeded");
  });
});

describe("the DAG's control keys in GET /dags/{fileName}", () => {
  it("shows preconditions, repeatPolicy, handlers and run limits in the contract's shapes", async () => {
    await createDag(
      "shown",
      `delaySec: 2
maxActiveSteps: 3
preconditions:
  - condition: "$ENV"
    expected: prod
handlerOn:
  exit: echo bye
steps:
  - name: a
    command: echo a
    preconditions: test -d /
    repeatPolicy: { repeat: until, condition: "$S", expected: ok, intervalSec: 5, limit: 3 }
`,
    );
    const r = await api("GET", "/dags/shown");
    expect(r.status).toBe(200);
    expect(r.body.dag).toMatchObject({
      delay: 2,
      maxActiveSteps: 3,
      preconditions: [{ condition: "$ENV", expected: "prod" }],
      handlerOn: { exit: { name: "onExit", command: "echo bye" } },
    });
    expect(r.body.dag.steps[0]).toMatchObject({
      preconditions: [{ condition: "test -d /" }],
      repeatPolicy: { repeat: "until", interval: 5, limit: 3, condition: { condition: "$S", expected: "ok" } },
    });
  });
});
