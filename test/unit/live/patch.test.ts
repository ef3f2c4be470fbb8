import { describe, expect, it } from "vitest";
import { HANDLER_NAMES } from "../../../src/dag/types";
import { type DetailHints, patchOf } from "../../../src/live/patch";
import { presentWithHints } from "../../../src/routes/run-details";
import type { RunSnapshot } from "../../../src/run/object/rpc";
import { dag, Harness, ok, step } from "../run/harness";

const HANDLERS = new Set<string>(Object.values(HANDLER_NAMES));

/** What a patch was before it was presented from the changed steps alone: the full details, filtered. */
function patchOfFullDetails(snap: RunSnapshot, hints: DetailHints, changed: ReadonlySet<string>) {
  const { nodes, ...run } = presentWithHints(snap, hints);
  const runPart: Record<string, unknown> = { ...run };
  for (const name of HANDLERS) if (!changed.has(name)) delete runPart[name];
  const touched = (n: (typeof nodes)[number]) =>
    changed.has(n.step.name) || (n.instances?.some((i) => changed.has(i.step.name)) ?? false);
  return { type: "patch", run: runPart, nodes: nodes.filter(touched) };
}

/** A started 2,000-step run with a parallel step and an exit handler; s5 leased, s6 done, fan's instances out. */
function bigRun(): RunSnapshot {
  const steps = Array.from({ length: 2000 }, (_, i) => step(`s${i}`));
  // Its own selector: the lease bound (64 per selector) holds the instances of one shared with 2,000 steps.
  steps[2] = step("fan", { fanout: { items: ["a", "b"], maxConcurrent: 2 }, workerSelector: { gpu: "1" } });
  const h = new Harness({ ...dag(...steps), handlerOn: { exit: step(HANDLER_NAMES.exit) } });
  h.fire({ type: "start" });
  h.claim("s5");
  h.run("s6", ok);
  h.claim("fan[1]");
  return { dag: h.ctx.dag, state: h.state, paramsText: "" };
}

const hints: DetailHints = {
  waiting: new Map([
    ["s7", "waiting: no live runner matches {pool=default}"],
    ["fan[2]", "waiting: no live runner matches {pool=default}"],
  ]),
  waitingFor: undefined,
  notifications: [],
};

describe("a live patch of a 2,000-step run", () => {
  it.each([
    ["one leased step", ["s5"]],
    ["one finished step", ["s6"]],
    ["one queued step with a waiting hint", ["s7"]],
    ["an instance of a parallel step", ["fan[1]"]],
    ["the exit handler and a step", [HANDLER_NAMES.exit, "s1999"]],
    ["no node at all", ["(dag env)"]],
  ])("is, for %s changed, byte for byte what the full presentation's patch gives", (_what, names) => {
    const snap = bigRun();
    const changed = new Set(names);
    expect(JSON.stringify(patchOf(snap, hints, changed))).toBe(
      JSON.stringify(patchOfFullDetails(snap, hints, changed)),
    );
  });

  it("presents only the nodes of the steps that changed", () => {
    const patch = patchOf(bigRun(), hints, new Set(["s5"]));
    expect(patch.nodes.map((n) => n.step.name)).toEqual(["s5"]);
  });
});
