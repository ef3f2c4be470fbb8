import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import type { DagDef } from "../../../src/dag/types";
import { exit, Harness } from "./harness";

function fanDag(extra = "", after = ""): DagDef {
  const r = parseDag(
    `type: graph
steps:
  - name: fan
    command: echo $ITEM
    parallel:
      items: [a, b, c]
      maxConcurrent: 2
${extra}  - name: after
    command: echo done
    depends: fan
${after}`,
    { name: "d" },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.dag;
}

describe("parallel steps in the machine", () => {
  it("runs one instance per item, at most maxConcurrent at once, and dependents after all", () => {
    const h = new Harness(fanDag());
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual(["fan[1]", "fan[2]"]);
    expect(h.status("fan[3]")).toBe("not_started");
    h.run("fan[1]");
    expect(h.dispatched()).toEqual(["fan[1]", "fan[2]", "fan[3]"]);
    h.run("fan[3]");
    expect(h.status("after")).toBe("not_started");
    h.run("fan[2]");
    expect(h.dispatched().at(-1)).toBe("after");
    h.run("after");
    expect(h.state.status).toBe("succeeded");
  });

  it("a failed instance fails the run and aborts the dependents; the other instances still run", () => {
    const h = new Harness(fanDag());
    h.fire({ type: "start" });
    h.run("fan[1]", exit(1));
    expect(h.dispatched()).toEqual(["fan[1]", "fan[2]", "fan[3]"]);
    h.run("fan[2]");
    h.run("fan[3]");
    expect(h.status("after")).toBe("aborted");
    expect(h.state.status).toBe("failed");
  });

  it("continueOn.failure on the parallel step lets dependents run after a failed instance", () => {
    const h = new Harness(fanDag("    continueOn:\n      failure: true\n"));
    h.fire({ type: "start" });
    h.run("fan[1]", exit(1));
    h.run("fan[2]");
    h.run("fan[3]");
    h.run("after");
    expect(h.status("after")).toBe("succeeded");
    expect(h.state.status).toBe("partially_succeeded");
  });

  it("maxConcurrent and the DAG's maxActiveSteps both hold", () => {
    const h = new Harness({ ...fanDag(), maxActiveSteps: 1 });
    h.fire({ type: "start" });
    expect(h.dispatched()).toEqual(["fan[1]"]);
    h.run("fan[1]");
    h.run("fan[2]");
    expect(h.dispatched()).toEqual(["fan[1]", "fan[2]", "fan[3]"]);
  });
});
