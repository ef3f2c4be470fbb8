// Run details name the runner that ran a step after its lease ended: a failed step's logs and
// files are on that runner's host.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStub } from "../../src/stubs";
import { complete, createDag, details, lease, nodeOf, startDag } from "./helpers";

const TWO_STEPS = `steps:
  - name: build
    command: echo build
  - name: deploy
    command: exit 3
`;

describe("the runner of a finished step", () => {
  it("is named on each finished node of the run's details", async () => {
    await createDag("ran-on", TWO_STEPS);
    const runId = await startDag("ran-on");
    const [build] = await lease(1, "host-build");
    expect((await complete(build, 0)).status).toBe(200);
    const [deploy] = await lease(1, "host-deploy");
    expect((await complete(deploy, 3)).status).toBe(200);

    const d = await details("ran-on", runId);
    expect(d.statusLabel).toBe("failed");
    expect(nodeOf(d, "build")).toMatchObject({ statusLabel: "succeeded", runnerId: "host-build" });
    expect(nodeOf(d, "deploy")).toMatchObject({ statusLabel: "failed", exitCode: 3, runnerId: "host-deploy" });
  });

  it("is left out, as unknown, for a step stored before dagflare kept it", async () => {
    await createDag("ran-on-old", TWO_STEPS);
    const runId = await startDag("ran-on-old");
    await complete((await lease(1, "host-old"))[0], 0);
    const stub = runStub(env, runId);
    await runInDurableObject(stub, (_o, state) => {
      const sql = state.storage.sql;
      for (const r of sql.exec<{ name: string; state: string }>("SELECT name, state FROM steps").toArray()) {
        const { runnerId: _dropped, ...step } = JSON.parse(r.state);
        sql.exec("UPDATE steps SET state = ? WHERE name = ?", JSON.stringify(step), r.name);
      }
    });
    // The object starts again over the rows as an earlier version wrote them.
    await evictDurableObject(stub);

    const build = nodeOf(await details("ran-on-old", runId), "build");
    expect(build.statusLabel).toBe("succeeded");
    expect(build).not.toHaveProperty("runnerId");
  });
});
