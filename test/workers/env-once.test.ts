// Backtick env values evaluated once per run, through the runner protocol inside workerd: the
// (dag env) lease asks for them, and every later lease of the run carries the values it got.
import { describe, expect, it } from "vitest";
import { complete, createDag, details, lease, nodeOf, startDag } from "./helpers";

const SPEC = `env:
  - STAMP: "\`date +%s%N\`"
  - OUT: /data/\${STAMP}
steps:
  - name: a
    command: echo "$STAMP"
  - name: b
    command: echo "$OUT"
`;

describe("backtick env values evaluated once per run", () => {
  it("leases the run's env step first, alone, and gives every later lease the values it sent back", async () => {
    await createDag("env-once", SPEC);
    const runId = await startDag("env-once");
    const [envLease, ...others] = await lease(4);
    expect(others).toEqual([]);
    expect(envLease.stepName).toBe("(dag env)");
    expect(envLease.exec.reportEnv).toEqual(["STAMP", "OUT"]);
    const done = await complete(envLease, 0, { env: { STAMP: "1764581234", OUT: "/data/1764581234" } });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const [a] = await lease();
    expect(a.stepName).toBe("a");
    expect(a.exec.env).toMatchObject({ STAMP: "1764581234", OUT: "/data/1764581234" });
    expect(a.exec.shellEnv).toBeUndefined();
    await complete(a, 0);
    const [b] = await lease();
    expect(b.exec.env.OUT).toBe("/data/1764581234");
    await complete(b, 0);
    const d = await details("env-once", runId);
    expect(d.statusLabel).toBe("succeeded");
    // dagflare's own step is not one of the run's nodes.
    expect(d.nodes.map((n: { step: { name: string } }) => n.step.name)).toEqual(["a", "b"]);
  });

  it("refuses a completion whose env values pass 64 KiB, naming the field, and keeps the lease", async () => {
    await createDag("env-big", SPEC);
    const runId = await startDag("env-big");
    const [envLease] = await lease();
    const big = await complete(envLease, 0, { env: { STAMP: "x".repeat(70_000) } });
    expect(big.status).toBe(400);
    expect(JSON.stringify(big.body)).toContain("env");
    expect((await complete(envLease, 0, { env: { STAMP: "1" } })).status).toBe(200);
    const [a] = await lease();
    expect(a.exec.env.STAMP).toBe("1");
    await complete(a, 0);
    expect(nodeOf(await details("env-big", runId), "a").statusLabel).toBe("succeeded");
  });
});
