// handlerOn.init through the API: the onInit node runs alone before the steps.
import { describe, expect, it } from "vitest";
import { complete, createDag, details, lease, nodeOf, startDag } from "./helpers";

const SPEC = `handlerOn:
  init: echo setting up
  exit: echo bye
steps:
  - name: a
    command: echo a
`;

describe("handlerOn.init", () => {
  it("leases onInit first and alone, shows it as the onInit node, then runs the steps", async () => {
    await createDag("with-init", SPEC);
    const runId = await startDag("with-init");
    const first = await lease(4);
    expect(first.map((l: { stepName: string }) => l.stepName)).toEqual(["onInit"]);
    expect(first[0].exec.command).toBe("echo setting up");
    expect((await details("with-init", runId)).onInit.statusLabel).toBe("running");
    await complete(first[0], 0);
    const [a] = await lease(4);
    expect(a.stepName).toBe("a");
    await complete(a, 0);
    await complete((await lease())[0], 0);
    const d = await details("with-init", runId);
    expect(d.statusLabel).toBe("succeeded");
    expect(d.onInit.statusLabel).toBe("succeeded");
    expect(d.onExit.statusLabel).toBe("succeeded");
  });

  it("fails the run without running a step when onInit fails", async () => {
    await createDag("init-fails", SPEC);
    const runId = await startDag("init-fails");
    await complete((await lease())[0], 2);
    const [exit] = await lease(4);
    expect(exit.stepName).toBe("onExit");
    await complete(exit, 0);
    const d = await details("init-fails", runId);
    expect(d.statusLabel).toBe("failed");
    expect(d.onInit).toMatchObject({ statusLabel: "failed", error: "exit status 2" });
    expect(nodeOf(d, "a")).toMatchObject({ statusLabel: "aborted", error: "handlerOn.init failed: exit status 2" });
  });
});
