import { describe, expect, it } from "vitest";
import { MAX_OFFER_DEPTH } from "../../src/limits";
import { api, callCounts, createDag, details, lease, nodeOf, runnerApi, startDag } from "./helpers";

type Offer = { leaseId: string; stepName: string; attempt: number; exec: unknown; successor?: Offer };
type L = Offer & { token: string; runId: string; dagName: string };

/** A chain-type DAG of `n` steps s0, s1, ... */
const chainOf = (n: number) =>
  `type: chain\nsteps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: echo ${i}\n`).join("")}`;

/** The offers of a lease, nested, as a list. */
function offers(l: { successor?: Offer }): Offer[] {
  const list: Offer[] = [];
  for (let o = l.successor; o; o = o.successor) list.push(o);
  return list;
}

const real = (l: L) => ({ leaseId: l.leaseId, token: l.token, exitCode: 0 });
const offered = (o: Offer) => ({ leaseId: o.leaseId, token: "", exitCode: 0, offered: { attempt: o.attempt } });
const next = { runnerId: "runner-test", max: 1 };
const runLog = async (dag: string, runId: string): Promise<string> =>
  (await api("GET", `/dag-runs/${dag}/${runId}/log`)).body.content;

describe("a chain's steps run ahead under offers several steps deep", () => {
  it("offers the chain ahead of a lease, one offer inside the other, up to the depth limit", async () => {
    await createDag("ahead-offers", chainOf(MAX_OFFER_DEPTH + 4));
    await startDag("ahead-offers");
    const [s0] = (await lease(1)) as L[];
    if (!s0) throw new Error("expected a lease");
    const chain = offers(s0);
    expect(chain.map((o) => o.stepName)).toEqual(Array.from({ length: MAX_OFFER_DEPTH }, (_, i) => `s${i + 1}`));
    expect(chain.every((o) => o.attempt === 1)).toBe(true);
  });

  it("accepts a completion and the offered completions after it in one call to the run, handing out the next step", async () => {
    await createDag("ahead-batch", chainOf(6));
    const runId = await startDag("ahead-batch");
    const [s0] = (await lease(1)) as L[];
    const [s1, s2] = s0 ? offers(s0) : [];
    if (!s0 || !s1 || !s2) throw new Error("expected a lease with two offers");
    const was = await callCounts();
    const r = await runnerApi("/completions", { completions: [real(s0), offered(s1), offered(s2)], next });
    const now = await callCounts();
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([200, 200, 200]);
    expect(r.body.results[1].body).toMatchObject({ accepted: true, token: expect.any(String) });
    expect(now("RUNS.completeMany") - was("RUNS.completeMany")).toBe(1);
    // The reply's next is the chain's following step, with the chain after it offered.
    expect(r.body.next.map((l: L) => l.stepName)).toEqual(["s3"]);
    expect(offers(r.body.next[0]).map((o) => o.stepName)).toEqual(["s4", "s5"]);
    const d = await details("ahead-batch", runId);
    for (const name of ["s0", "s1", "s2"]) expect(nodeOf(d, name).statusLabel).toBe("succeeded");
    expect(nodeOf(d, "s3").statusLabel).toBe("running");
  });

  it("refuses an offered completion that no completion before it in the call leased, and says so in the run's log", async () => {
    await createDag("ahead-alone", chainOf(4));
    const runId = await startDag("ahead-alone");
    const [s0] = (await lease(1)) as L[];
    const [s1] = s0 ? offers(s0) : [];
    if (!s0 || !s1) throw new Error("expected a lease with an offer");
    const r = await runnerApi("/completions", { completions: [offered(s1)], next });
    expect(r.body.results[0]).toMatchObject({ leaseId: s1.leaseId, status: 409, body: { code: "not_running" } });
    expect(r.body.next).toEqual([]);
    const d = await details("ahead-alone", runId);
    expect(nodeOf(d, "s0").statusLabel).toBe("running");
    expect(nodeOf(d, "s1").statusLabel).toBe("not_started");
    expect(await runLog("ahead-alone", runId)).toContain(
      "step s1 ran on runner runner-test under an offer the run withdrew; its result was not taken",
    );
  });

  it("refuses the offered completions after a refused completion, and takes none of their results", async () => {
    await createDag("ahead-refused", chainOf(4));
    const runId = await startDag("ahead-refused");
    const [s0] = (await lease(1)) as L[];
    const [s1, s2] = s0 ? offers(s0) : [];
    if (!s0 || !s1 || !s2) throw new Error("expected a lease with two offers");
    const stale = { ...real(s0), token: "not-the-token" };
    const r = await runnerApi("/completions", { completions: [stale, offered(s1), offered(s2)], next });
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([409, 409, 409]);
    const d = await details("ahead-refused", runId);
    expect(["s1", "s2"].map((n) => nodeOf(d, n).statusLabel)).toEqual(["not_started", "not_started"]);
  });

  it("refuses an offered completion whose predecessor failed, though it was offered", async () => {
    await createDag("ahead-failed", chainOf(4));
    const runId = await startDag("ahead-failed");
    const [s0] = (await lease(1)) as L[];
    const [s1] = s0 ? offers(s0) : [];
    if (!s0 || !s1) throw new Error("expected a lease with an offer");
    const r = await runnerApi("/completions", { completions: [{ ...real(s0), exitCode: 1 }, offered(s1)], next });
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([200, 409]);
    expect(nodeOf(await details("ahead-failed", runId), "s1").statusLabel).toBe("aborted");
  });
});

describe("a completion call carrying several runs", () => {
  it("hands the runner the next step of each run, within its ask", async () => {
    await createDag("two-runs", chainOf(3));
    const one = await startDag("two-runs");
    const two = await startDag("two-runs");
    const leases = (await lease(2)) as L[];
    expect(new Set(leases.map((l) => l.runId))).toEqual(new Set([one, two]));
    const r = await runnerApi("/completions", {
      completions: leases.map(real),
      next: { runnerId: "runner-test", max: 2 },
    });
    const got = (r.body.next as L[]).map((l) => `${l.runId}:${l.stepName}`).sort();
    expect(got).toEqual([`${one}:s1`, `${two}:s1`].sort());
  });
});
