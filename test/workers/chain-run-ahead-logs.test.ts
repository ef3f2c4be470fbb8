import { describe, expect, it } from "vitest";
import { MAX_COMPLETION_LOG_BYTES, MAX_COMPLETION_LOG_ENTRIES, MAX_LOG_BATCH_BYTES } from "../../src/shared/protocol";
import { api, createDag, details, nodeOf, runnerApi, startDag } from "./helpers";

type Offer = { leaseId: string; stepName: string; attempt: number; successor?: Offer; logsInCompletion?: unknown };
type L = Offer & { token: string };
type Entry = { seq: number; stream: "stdout" | "stderr"; text: string };

/** A chain-type DAG of `n` steps in a pool of its own: no other test's ready step is leased here. */
const chainOf = (n: number, pool: string) =>
  `type: chain\nworkerSelector:\n  pool: ${pool}\nsteps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: echo ${i}\n`).join("")}`;

const real = (l: L) => ({ leaseId: l.leaseId, token: l.token, exitCode: 0 });
const offered = (o: Offer, logs?: Entry[]) => ({
  leaseId: o.leaseId,
  token: "",
  exitCode: 0,
  offered: { attempt: o.attempt },
  ...(logs && { logs }),
});
const out = (seq: number, text: string): Entry => ({ seq, stream: "stdout", text });

/** A run of a chain, its first step leased, and the two offers that lease holds. */
async function leasedChain(dag: string) {
  await createDag(dag, chainOf(4, dag));
  const runId = await startDag(dag);
  const next = { runnerId: "runner-test", max: 1, labels: { pool: dag } };
  const r = await runnerApi("/lease", { ...next, waitMs: 0 });
  const s0: L | undefined = r.body.leases[0];
  const s1 = s0?.successor;
  const s2 = s1?.successor;
  if (!s0 || !s1 || !s2) throw new Error("expected a lease with two offers");
  return { runId, next, s0, s1, s2 };
}

async function stepLog(dag: string, runId: string, step: string, stream = "stdout"): Promise<string> {
  return (await api("GET", `/dag-runs/${dag}/${runId}/steps/${step}/log?stream=${stream}`)).body.content;
}

describe("an offered completion that brings the step's log", () => {
  it("offers each step of the chain with the bounds of the log its completion may bring", async () => {
    const { s1, s2 } = await leasedChain("logs-offer");
    for (const o of [s1, s2]) {
      expect(o.logsInCompletion).toEqual({
        maxBytes: MAX_COMPLETION_LOG_BYTES,
        maxEntries: MAX_COMPLETION_LOG_ENTRIES,
      });
    }
  });

  it("stores the entries of each offered completion in order, with its result, in the same call", async () => {
    const dag = "logs-taken";
    const { runId, next, s0, s1, s2 } = await leasedChain(dag);
    const r = await runnerApi("/completions", {
      completions: [
        real(s0),
        offered(s1, [out(1, "one\n"), { seq: 2, stream: "stderr", text: "warn\n" }, out(3, "two\n")]),
        offered(s2, [out(1, "three\n")]),
      ],
      next,
    });
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([200, 200, 200]);
    const d = await details(dag, runId);
    expect(["s1", "s2"].map((n) => nodeOf(d, n).statusLabel)).toEqual(["succeeded", "succeeded"]);
    expect(await stepLog(dag, runId, "s1")).toBe("one\ntwo");
    expect(await stepLog(dag, runId, "s1", "stderr")).toBe("warn");
    expect(await stepLog(dag, runId, "s2")).toBe("three");
  });

  it("stores a step's entries once when its taken completion comes again", async () => {
    const dag = "logs-again";
    const { runId, next, s0, s1 } = await leasedChain(dag);
    const call = { completions: [real(s0), offered(s1, [out(1, "once\n")])], next };
    await runnerApi("/completions", call);
    const again = await runnerApi("/completions", call);
    expect(again.body.results[1]).toMatchObject({ status: 200, body: { accepted: false } });
    expect(await stepLog(dag, runId, "s1")).toBe("once");
  });

  it("stores the entries of a completion under its lease's token with its result", async () => {
    const dag = "logs-token";
    const { runId, s0 } = await leasedChain(dag);
    const r = await runnerApi("/completions", { completions: [{ ...real(s0), logs: [out(1, "mine\n")] }] });
    expect(r.body.results[0].status).toBe(200);
    expect(await stepLog(dag, runId, "s0")).toBe("mine");
  });

  it("stores nothing of a refused offered completion, and the run's log says its output was not kept", async () => {
    const dag = "logs-refused";
    const { runId, next, s0, s1 } = await leasedChain(dag);
    const stale = { ...real(s0), token: "not-the-token" };
    const r = await runnerApi("/completions", { completions: [stale, offered(s1, [out(1, "lost\n")])], next });
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([409, 409]);
    expect(nodeOf(await details(dag, runId), "s1").statusLabel).toBe("not_started");
    expect(await stepLog(dag, runId, "s1")).toBe("");
    expect((await api("GET", `/dag-runs/${dag}/${runId}/log`)).body.content).toContain(
      "step s1 ran on runner runner-test under an offer the run withdrew; its result was not taken, nor its 5 bytes of output",
    );
  });
});

describe("the bounds of the log a completion brings", () => {
  it("refuses, alone, a completion bringing more log text than its limit, naming the field, and stores none of it", async () => {
    const dag = "logs-too-big";
    const { runId, next, s0, s1 } = await leasedChain(dag);
    const big = out(1, "x".repeat(MAX_COMPLETION_LOG_BYTES + 1));
    const r = await runnerApi("/completions", { completions: [real(s0), offered(s1, [big])], next });
    expect(r.body.results[0].status).toBe(200);
    expect(r.body.results[1]).toMatchObject({
      status: 413,
      body: { code: "bad_request", details: { field: "completions.1.logs" } },
    });
    expect(r.body.results[1].body.message).toContain("over the limit of 64 KiB for one completion");
    expect(nodeOf(await details(dag, runId), "s1").statusLabel).toBe("running");
    expect(await stepLog(dag, runId, "s1")).toBe("");
  });

  it("refuses a completion bringing more log entries than its limit", async () => {
    const { s0 } = await leasedChain("logs-too-many");
    const logs = Array.from({ length: MAX_COMPLETION_LOG_ENTRIES + 1 }, (_, i) => out(i + 1, "x"));
    const r = await runnerApi("/completions", { completions: [{ ...real(s0), logs }] });
    expect(r.body.results[0]).toMatchObject({ status: 413, body: { details: { field: "completions.0.logs" } } });
  });

  it("refuses a completion whose log entries are out of seq order", async () => {
    const dag = "logs-order";
    const { runId, s0 } = await leasedChain(dag);
    const r = await runnerApi("/completions", { completions: [{ ...real(s0), logs: [out(2, "b"), out(1, "a")] }] });
    expect(r.body.results[0]).toMatchObject({ status: 400, body: { details: { field: "completions.0.logs" } } });
    expect(nodeOf(await details(dag, runId), "s0").statusLabel).toBe("running");
  });

  it("refuses a whole call whose completions bring more log text than a log batch", async () => {
    const dag = "logs-call";
    const { runId, s0 } = await leasedChain(dag);
    const per = MAX_COMPLETION_LOG_BYTES;
    const count = Math.floor(MAX_LOG_BATCH_BYTES / per) + 1;
    const others = Array.from({ length: count - 1 }, (_, i) => ({
      leaseId: `${runId}.9.${i + 1}`,
      token: "t",
      exitCode: 0,
      logs: [out(1, "y".repeat(per))],
    }));
    const r = await runnerApi("/completions", {
      completions: [{ ...real(s0), logs: [out(1, "z".repeat(per))] }, ...others],
    });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: "bad_request", details: { fields: ["completions"] } });
    expect(nodeOf(await details(dag, runId), "s0").statusLabel).toBe("running");
    expect(await stepLog(dag, runId, "s0")).toBe("");
  });
});
