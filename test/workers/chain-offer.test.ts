import { describe, expect, it } from "vitest";
import { api, complete, createDag, lease, runnerApi, startDag } from "./helpers";

const CHAIN = `type: chain
env:
  - GREETING: hello
steps:
  - name: a
    command: echo a
  - name: b
    command: echo "$GREETING" b
    env:
      - WHO: b
  - name: c
    command: echo c
`;

type L = { leaseId: string; token: string; stepName: string; attempt: number; exec: unknown; successor?: Offer };
type Offer = { leaseId: string; stepName: string; attempt: number; exec: unknown };

describe("a chain's next step offered with the lease of the step before", () => {
  it("offers the successor with the lease, and the completion's next lease is the one offered", async () => {
    await createDag("offer-chain", CHAIN);
    await startDag("offer-chain");
    const [a] = (await lease(1)) as L[];
    if (!a) throw new Error("expected a lease");
    expect(a.stepName).toBe("a");
    expect(a.successor).toMatchObject({ stepName: "b", attempt: 1 });
    const r = await runnerApi<{ accepted: boolean; next: L[] }>(`/leases/${a.leaseId}/complete`, {
      token: a.token,
      exitCode: 0,
      next: { runnerId: "runner-test", max: 1 },
    });
    const [b] = r.body.next;
    expect(b).toMatchObject({ leaseId: a.successor?.leaseId, stepName: "b", attempt: a.successor?.attempt });
    expect(b?.exec).toEqual(a.successor?.exec);
    expect(b?.successor?.stepName).toBe("c");
  });

  it("offers nothing with the last step of the chain", async () => {
    await createDag("offer-last", "type: chain\nsteps:\n  - name: only\n    command: echo only\n");
    await startDag("offer-last");
    const [only] = (await lease(1)) as L[];
    expect(only?.stepName).toBe("only");
    expect(only?.successor).toBeUndefined();
  });

  it("grants no lease for the offered step when the run was stopped before the completion", async () => {
    await createDag("offer-stopped", CHAIN);
    const runId = await startDag("offer-stopped");
    const [a] = (await lease(1)) as L[];
    if (!a?.successor) throw new Error("expected an offer");
    const confirmed = await runnerApi(`/leases/${a.leaseId}/heartbeat`, { token: a.token });
    expect(confirmed.status).toBe(200);
    expect((await api("POST", `/dag-runs/offer-stopped/${runId}/stop`)).status).toBe(200);
    const r = await runnerApi<{ next: L[] }>(`/leases/${a.leaseId}/complete`, {
      token: a.token,
      exitCode: 0,
      next: { runnerId: "runner-test", max: 1 },
    });
    expect(r.body.next).toEqual([]);
  });

  it("leases the successor with the offered spec whether or not it was started early", async () => {
    await createDag("offer-plain", CHAIN);
    await startDag("offer-plain");
    const [a] = (await lease(1)) as L[];
    if (!a?.successor) throw new Error("expected an offer");
    await complete(a, 0);
    const [b] = (await lease(1)) as L[];
    expect(b?.leaseId).toBe(a.successor.leaseId);
    expect(b?.exec).toEqual(a.successor.exec);
  });
});
