import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dispatcherFor } from "../../src/stubs";
import {
  api,
  callCounts,
  complete,
  createDag,
  details,
  fireRunAlarm,
  lease,
  nodeOf,
  runnerApi,
  startDag,
} from "./helpers";

const CHAIN = `steps:
  - name: first
    command: echo first
    output: FIRST
  - name: second
    command: echo second
`;

async function runRow(runId: string) {
  return env.DB.prepare("SELECT status, started_at, finished_at FROM dag_runs WHERE run_id = ?").bind(runId).first<{
    status: string;
    started_at: number | null;
    finished_at: number | null;
  }>();
}

describe("a run driven through the runner protocol", () => {
  it("runs a chain step by step, keeps logs and outputs, and writes the summary to D1", async () => {
    await createDag("chain", CHAIN);
    const runId = await startDag("chain");
    expect((await details("chain", runId)).statusLabel).toBe("running");
    expect((await runRow(runId))?.status).toBe("running");

    const [first] = await lease();
    expect(first).toMatchObject({ runId, dagName: "chain", stepName: "first", attempt: 1 });
    expect(first.exec).toMatchObject({ command: "echo first", shell: [], output: "FIRST" });
    expect(first.exec.env.DAG_RUN_ID).toBe(runId);
    expect(await lease()).toEqual([]);

    const hb = await runnerApi(`/leases/${first.leaseId}/heartbeat`, { token: first.token });
    expect(hb.body).toEqual({ cancel: false, ttlMs: expect.any(Number) });
    const logs = await runnerApi(`/leases/${first.leaseId}/logs`, {
      token: first.token,
      entries: [
        { seq: 1, stream: "stdout", text: "line 1\n" },
        { seq: 2, stream: "stderr", text: "warn\n" },
      ],
    });
    expect(logs.body).toEqual({ ackedSeq: 2 });
    const done = await complete(first, 0, {
      output: "first",
      lastLogSeq: 2,
      next: { runnerId: "runner-test", max: 1 },
    });
    expect(done.body.accepted).toBe(true);
    expect(done.body.next.map((l: { stepName: string }) => l.stepName)).toEqual(["second"]);
    expect(done.body.next[0].exec.env.FIRST).toBe("first");

    const mid = await details("chain", runId);
    expect(nodeOf(mid, "first").statusLabel).toBe("succeeded");
    expect(nodeOf(mid, "second").statusLabel).toBe("running");

    await complete(done.body.next[0], 0);
    const end = await details("chain", runId);
    expect(end.statusLabel).toBe("succeeded");
    expect(end.finishedAt).toMatch(/^\d{4}-/);
    const row = await runRow(runId);
    expect(row?.status).toBe("succeeded");
    expect(row?.finished_at).toBeGreaterThan(0);

    const stdout = await api("GET", `/dag-runs/chain/${runId}/steps/first/log`);
    expect(stdout.body).toMatchObject({ content: "line 1", lineCount: 1, totalLines: 1, hasMore: false });
    const stderr = await api("GET", `/dag-runs/chain/${runId}/steps/first/log?stream=stderr`);
    expect(stderr.body.content).toBe("warn");
    const runLog = await api("GET", `/dag-runs/chain/${runId}/log`);
    expect(runLog.body.content).toMatch(/step first succeeded/);
    expect((await api("GET", "/dag-runs/chain/latest")).body.dagRunDetails.dagRunId).toBe(runId);
  });

  it("stores a repeated log batch once and answers a repeated completion without applying it", async () => {
    await createDag("idem", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("idem");
    const [l] = await lease();
    const batch = { token: l.token, entries: [{ seq: 1, stream: "stdout", text: "once\n" }] };
    await runnerApi(`/leases/${l.leaseId}/logs`, batch);
    expect((await runnerApi(`/leases/${l.leaseId}/logs`, batch)).body).toEqual({ ackedSeq: 1 });
    expect((await complete(l, 0)).body.accepted).toBe(true);
    const again = await complete(l, 0);
    expect(again.status).toBe(200);
    expect(again.body.accepted).toBe(false);
    const log = await api("GET", `/dag-runs/idem/${runId}/steps/only/log`);
    expect(log.body.content).toBe("once");
  });

  it("refuses calls with a forged token and changes nothing", async () => {
    await createDag("fenced", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("fenced");
    const [l] = await lease();
    const forged = { leaseId: l.leaseId, token: "0".repeat(32) };
    const r = await complete(forged, 0);
    expect(r.status).toBe(409);
    expect(r.body.code).toBe("not_running");
    expect(
      (
        await runnerApi(`/leases/${l.leaseId}/logs`, {
          token: forged.token,
          entries: [{ seq: 1, stream: "stdout", text: "x" }],
        })
      ).status,
    ).toBe(409);
    expect(nodeOf(await details("fenced", runId), "only").statusLabel).toBe("running");
    await complete(l, 0);
  });

  it("answers an unknown lease id with 404 and out-of-order log entries with 400", async () => {
    expect((await complete({ leaseId: "nope", token: "x" }, 0)).status).toBe(404);
    await createDag("order", "steps:\n  - name: only\n    command: echo\n");
    await startDag("order");
    const [l] = await lease();
    const bad = await runnerApi(`/leases/${l.leaseId}/logs`, {
      token: l.token,
      entries: [
        { seq: 2, stream: "stdout", text: "b" },
        { seq: 1, stream: "stdout", text: "a" },
      ],
    });
    expect(bad.status).toBe(400);
    await complete(l, 0);
  });

  it("retries a failed step after intervalSec when its alarm fires", async () => {
    await createDag(
      "flaky",
      "steps:\n  - name: try\n    command: exit 1\n    retryPolicy:\n      limit: 1\n      intervalSec: 30\n",
    );
    const runId = await startDag("flaky");
    const [a1] = await lease();
    await complete(a1, 1);
    const waiting = nodeOf(await details("flaky", runId), "try");
    expect(waiting).toMatchObject({ statusLabel: "retrying", retryCount: 1 });
    expect(await lease()).toEqual([]);
    expect(await fireRunAlarm(runId)).toBe(true);
    const [a2] = await lease();
    expect(a2).toMatchObject({ stepName: "try", attempt: 2 });
    await complete(a2, 0);
    const end = await details("flaky", runId);
    expect(end.statusLabel).toBe("succeeded");
    expect(nodeOf(end, "try")).toMatchObject({ retryCount: 1, attempt: 2 });
  });

  it("re-dispatches a step whose runner stopped heartbeating once the lease expires", async () => {
    await createDag("lost", "steps:\n  - name: only\n    command: sleep 1\n");
    const runId = await startDag("lost");
    const [gone] = await lease(1, "runner-gone");
    await runnerApi(`/leases/${gone.leaseId}/heartbeat`, { token: gone.token });
    expect(await fireRunAlarm(runId)).toBe(true);
    const [again] = await lease(1, "runner-other");
    expect(again).toMatchObject({ stepName: "only", attempt: 2 });
    expect((await complete(gone, 0)).status).toBe(409);
    await complete(again, 0);
    expect((await details("lost", runId)).statusLabel).toBe("succeeded");
  });

  it("takes back a lease that was never confirmed, without counting it, and keeps the lost runner's old polls out", async () => {
    await createDag("unconfirmed", "steps:\n  - name: only\n    command: echo\n");
    const runId = await startDag("unconfirmed");
    const askedBefore = Date.now() - 1;
    const [never] = await lease(1, "runner-vanished");
    expect(await fireRunAlarm(runId)).toBe(true);
    const dispatcher = dispatcherFor(env);
    const stale = await dispatcher.take({ runnerId: "runner-vanished", labels: {}, max: 1, askedAt: askedBefore });
    expect(stale).toEqual([]);
    const [again] = await lease(1, "runner-other");
    expect(again).toMatchObject({ stepName: "only", attempt: 1 });
    expect((await complete(never, 0)).status).toBe(409);
    await complete(again, 0);
    const log = await api("GET", `/dag-runs/unconfirmed/${runId}/log`);
    expect(log.body.content).toMatch(/runner runner-vanished never confirmed its lease/);
  });

  it("stops a run: the waiting steps abort, the running one is cancelled through its heartbeat", async () => {
    await createDag(
      "stoppable",
      "type: graph\nsteps:\n  - name: long\n    command: sleep 100\n  - name: after\n    command: echo\n    depends: [long]\n",
    );
    const runId = await startDag("stoppable");
    const [l] = await lease();
    expect((await api("POST", `/dag-runs/stoppable/${runId}/stop`)).status).toBe(200);
    expect(nodeOf(await details("stoppable", runId), "after").statusLabel).toBe("aborted");
    const hb = await runnerApi(`/leases/${l.leaseId}/heartbeat`, { token: l.token });
    expect(hb.body.cancel).toBe(true);
    await complete(l, 0, { exitCode: null, signal: "SIGTERM", cancelled: true });
    const end = await details("stoppable", runId);
    expect(end.statusLabel).toBe("aborted");
    expect(nodeOf(end, "long").statusLabel).toBe("aborted");
    const again = await api("POST", `/dag-runs/stoppable/${runId}/stop`);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe("not_running");
  });

  it("starts a run from an inline spec and lists it by name and status", async () => {
    const r = await api("POST", "/dag-runs", { spec: "name: inline\nsteps:\n  - name: a\n    command: echo\n" });
    expect(r.status).toBe(200);
    const runId = r.body.dagRunId;
    const running = await api("GET", "/dag-runs?name=inline&status=1");
    expect(running.body.dagRuns.map((x: { dagRunId: string }) => x.dagRunId)).toEqual([runId]);
    const [l] = await lease();
    await complete(l, 0);
    expect((await api("GET", "/dag-runs?name=inline&status=1")).body.dagRuns).toEqual([]);
    expect((await api("GET", "/dag-runs/inline?status=succeeded")).body.dagRuns).toHaveLength(1);
  });

  it("answers an unknown run, DAG or step with 404 not_found", async () => {
    expect((await api("GET", "/dag-runs/nobody/0000")).body.code).toBe("not_found");
    expect((await api("GET", "/dags/nobody")).status).toBe(404);
    expect((await api("POST", "/dags/nobody/start", {})).status).toBe(404);
    await createDag("steps404", "steps:\n  - name: a\n    command: echo\n");
    const runId = await startDag("steps404");
    expect((await api("GET", `/dag-runs/steps404/${runId}/steps/ghost/log`)).status).toBe(404);
    expect((await api("GET", `/dag-runs/other/${runId}`)).status).toBe(404);
    const [l] = await lease();
    await complete(l, 0);
  });

  it("refuses a duplicate run id with 409 and keeps the first run", async () => {
    await createDag("dup", "steps:\n  - name: a\n    command: echo\n");
    await startDag("dup", { dagRunId: "fixed-id" });
    const again = await api("POST", "/dags/dup/start", { dagRunId: "fixed-id" });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_exists");
    const [l] = await lease();
    await complete(l, 0);
    expect((await details("dup", "fixed-id")).statusLabel).toBe("succeeded");
  });

  it("refuses a log batch over the size limit with 413 and stores none of it", async () => {
    await createDag("biglog", "steps:\n  - name: a\n    command: echo\n");
    const runId = await startDag("biglog");
    const [l] = await lease();
    const big = await runnerApi(`/leases/${l.leaseId}/logs`, {
      token: l.token,
      entries: [{ seq: 1, stream: "stdout", text: "x".repeat(1024 * 1024 + 1) }],
    });
    expect(big.status).toBe(413);
    await complete(l, 0);
    expect((await api("GET", `/dag-runs/biglog/${runId}/steps/a/log`)).body.content).toBe("");
  });

  it("lists a DAG's runs with details and grid data, newest first", async () => {
    await createDag("history", "steps:\n  - name: a\n    command: echo\n");
    const first = await startDag("history");
    const [l1] = await lease();
    await complete(l1, 1);
    const second = await startDag("history");
    const [l2] = await lease();
    await complete(l2, 0);
    const r = await api("GET", "/dags/history/dag-runs");
    expect(r.body.dagRuns.map((x: { dagRunId: string }) => x.dagRunId)).toEqual([second, first]);
    expect(r.body.gridData).toEqual([{ name: "a", history: [2, 4] }]);
    const dag = await api("GET", "/dags/history");
    expect(dag.body.latestDAGRun.dagRunId).toBe(second);
  });

  it("adds a grid row per handler the runs' DAG defines, after the steps, whether it ran or not, as Dagu does", async () => {
    await createDag(
      "gridh",
      "handlerOn:\n  success: echo ok\n  failure: echo no\n  exit: echo bye\nsteps:\n  - name: a\n    command: echo\n",
    );
    await startDag("gridh");
    for (let i = 0; i < 3; i++) {
      const [l] = await lease();
      await complete(l, 0);
    }
    const r = await api("GET", "/dags/gridh/dag-runs");
    expect(r.body.gridData).toEqual([
      { name: "a", history: [4] },
      { name: "onSuccess", history: [4] },
      { name: "onFailure", history: [0] },
      { name: "onExit", history: [4] },
    ]);
  });

  it("answers one run of a DAG under /dags/{fileName}/dag-runs/{dagRunId}, latest included", async () => {
    await createDag("onerun", "steps:\n  - name: a\n    command: echo\n");
    const runId = await startDag("onerun");
    const byId = await api("GET", `/dags/onerun/dag-runs/${runId}`);
    expect(byId.status).toBe(200);
    expect(byId.body.dagRun).toMatchObject({ dagRunId: runId, name: "onerun", nodes: [{ step: { name: "a" } }] });
    expect((await api("GET", "/dags/onerun/dag-runs/latest")).body.dagRun.dagRunId).toBe(runId);
    const missing = await api("GET", "/dags/onerun/dag-runs/no-such-run");
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("not_found");
    const [l] = await lease();
    await complete(l, 0);
  });

  it("passes start params to the steps", async () => {
    await createDag("params", 'params: "one two"\nsteps:\n  - name: a\n    command: echo $1\n');
    await startDag("params", { params: "uno dos" });
    const [l] = await lease();
    expect(l.exec.args).toEqual(["uno", "dos"]);
    await complete(l, 0);
  });

  it("writes a chain step's end and its successor's lease to the run log in one statement, in that order", async () => {
    await createDag("log-lines", CHAIN);
    const runId = await startDag("log-lines");
    const [first] = await lease();
    const was = await callCounts();
    const done = await complete(first, 0, { next: { runnerId: "runner-test", max: 1 } });
    const now = await callCounts();
    expect(done.body.next.map((l: { stepName: string }) => l.stepName)).toEqual(["second"]);
    expect(now("SQL.RunObject.insert.run_log") - was("SQL.RunObject.insert.run_log")).toBe(1);
    const log: string = (await api("GET", `/dag-runs/log-lines/${runId}/log`)).body.content;
    const ended = log.indexOf("step first succeeded");
    const leased = log.indexOf("step second attempt 1 leased to runner runner-test");
    expect(ended).toBeGreaterThan(-1);
    expect(leased).toBeGreaterThan(ended);
  });
});
