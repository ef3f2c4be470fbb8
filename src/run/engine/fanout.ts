// Fan-out steps at run time: a `parallel` step is expanded into instances when it is ready, and
// ends with the status derived from them and, with `output`, Dagu's aggregate of them. PURE.
// What the items and instances are: fanout-items.ts.
import { instanceName } from "../../dag/parallel";
import { createContext, DAG_ENV_STEP, newStep } from "./context";
import type { Draft } from "./draft";
import {
  aggregateOutput,
  currentInstances,
  deriveFanoutStatus,
  type FanoutOutcome,
  resolveItems,
} from "./fanout-items";
import { outputsOverLimit, setOutput } from "./outputs";
import { letsDependentsRun } from "./rules";
import type { StepState } from "./types";

/** A fan-out step became ready: read its items and make one instance per item ready. */
export function expandFanout(d: Draft, name: string): void {
  const def = d.def(name);
  const listed = def.fanout?.items;
  const ref = typeof listed === "string" ? `parallel items ${listed}` : "parallel items listed in the file";
  d.move(
    name,
    { kind: "fannedOut" },
    {
      readyAt: d.now,
      startedAt: d.now,
      finishedAt: undefined,
      error: undefined,
      exitCode: undefined,
      outputMatched: undefined,
      instances: 0,
    },
  );
  const got = resolveItems(d.ctx.dag, def, {
    runId: d.state.runId,
    params: d.ctx.params ?? { named: [], positional: [] },
    outputs: d.state.outputs,
    // The DAG's backtick values, once the run evaluated them, may hold the items.
    evaluatedEnv: d.state.steps[DAG_ENV_STEP]?.envValues,
  });
  if (!got.ok) {
    d.finish(name, "failed", got.error);
    return;
  }
  if (got.items.length === 0) {
    d.log(`step ${name}: ${ref} is an empty list; no instance to run`);
    finishWithAggregate(d, name, { status: "succeeded" }, []);
    return;
  }
  const known = new Set(d.state.fanoutInstances ?? []);
  const added: string[] = [];
  const names = got.items.map((item, i) => {
    const iname = instanceName(name, i + 1);
    const before = d.state.steps[iname];
    // An instance of an earlier expansion (the run was retried) keeps its attempt numbers, so
    // the logs of its earlier attempts stay readable, and its dispatch sequence, so a dispatch
    // of the earlier expansion is stale.
    d.put({
      ...newStep(iname),
      item,
      ...(before && { attempt: before.attempt, dispatchSeq: before.dispatchSeq, doneTokens: before.doneTokens }),
    });
    if (!known.has(iname)) added.push(iname);
    return iname;
  });
  if (added.length) d.state.fanoutInstances = [...(d.state.fanoutInstances ?? []), ...added];
  d.update(name, { instances: got.items.length });
  // The new instances' defs (their parallel group) exist from here: count them again.
  d.setContext(createContext(d.ctx.dag, d.ctx.leaseTtlMs, { params: d.ctx.params, state: d.state }), added);
  d.log(
    `step ${name}: ${ref} hold ${got.items.length} item(s); running ${instanceName(name, 1)}` +
      (got.items.length > 1 ? ` to ${instanceName(name, got.items.length)}` : ""),
  );
  d.ready.push(...names);
}

/** An instance ended: once all have, the fan-out step gets its derived status. */
export function instanceFinished(d: Draft, name: string): void {
  const group = d.ctx.stepsByName.get(name)?.parallelGroup;
  if (!group || !d.ctx.stepsByName.get(group.name)?.fanout) return;
  // The instances' own counts say whether any is still open: no walk until the last one ends.
  if (d.index.openInGroup(group.name) > 0) return;
  const parent = d.step(group.name);
  if (parent.phase.kind !== "fannedOut") return;
  const instances = currentInstances(d.state, group.name).map((i) => d.step(i.name));
  if (!instances.some((s) => s.name === name)) return;
  const outcome = deriveFanoutStatus(instances, (s) => letsDependentsRun(d.def(s.name), s));
  d.update(group.name, { exitCode: outcome.exitCode, outputMatched: outcome.outputMatched });
  finishWithAggregate(d, group.name, outcome, instances);
}

/**
 * Ends the fan-out step; with `output`, its variable first gets Dagu's aggregate of the instances,
 * whatever they did (as Dagu writes it after failures too). An aggregate over the run's output
 * limit fails the step instead.
 */
function finishWithAggregate(d: Draft, name: string, outcome: FanoutOutcome, instances: StepState[]): void {
  const def = d.def(name);
  if (def.output) {
    const value = aggregateOutput(def, instances);
    const tooBig = outputsOverLimit(d, def.output, value);
    if (tooBig) {
      d.finish(name, "failed", tooBig);
      return;
    }
    setOutput(d, name, def.output, value);
  }
  d.finish(name, outcome.status, outcome.error);
}
