// Fan-out steps' items and instances: what a fan-out adds, read from the run's state. PURE.
// How the engine expands a fan-out step and ends it is in fanout.ts.
//
// Fan-out steps: every `parallel` step, its items listed in the file or read from a variable
// (`parallel: ${LIST}`).
//
// Such a step is one step of the graph. When it is ready the machine takes its items (the listed
// ones, or the variable read the way dagflare resolves `${NAME}` in an env value of the step:
// params, outputs, the DAG's and the step's env, run variables; `${LIST.path}` into an output
// holding JSON) and adds one instance per item, `<step>[1]`, `<step>[2]`, ..., each with ITEM in
// its env. The fan-out step shows `running` while its instances run, then the status derived
// from them (deriveFanoutStatus) and, with `output`, Dagu's aggregate of them
// (aggregateOutput); its dependents wait for that.
//
// Instances are kept in the run's state: their names in `RunState.fanoutInstances`, in the order
// they were first added, and each one's item in its StepState. The machine's context appends
// their defs after every other step (createContext), so a lease id's step index never changes,
// whatever the run adds later or after being reloaded. A retry of the fan-out step expands it
// again: instances of the same name are reused (their attempt numbers go on), new ones appended.
import { buildExecSpec } from "../../dag/exec-spec";
import { ITEMS_REF, instanceName, instanceStep, parseInstanceName } from "../../dag/parallel";
import type { ResolvedParams } from "../../dag/params";
import { expandJsonPaths } from "../../dag/refs";
import type { DagDef, StepDef } from "../../dag/types";
import type { FinalStepStatus } from "../../status";
import type { RunState, StepState } from "./types";

/** Most instances one fan-out step may have; more fails the step. */
export const MAX_FANOUT_ITEMS = 1000;

/**
 * An instance: the fan-out step's def as listed items give it. Its depends are shown as the
 * step's; the machine dispatches instances itself, when the step is ready.
 */
export function instanceDef(parent: StepDef, n: number, item: string): StepDef {
  const { fanout, ...base } = parent;
  return instanceStep(base, n, item, fanout?.maxConcurrent ?? 1);
}

/** The fan-out step `name` is an instance of; undefined for any other step (a step of the DAG, a handler). */
export function fanoutParentOf(stepsByName: ReadonlyMap<string, StepDef>, name: string): string | undefined {
  const group = stepsByName.get(name)?.parallelGroup;
  return group && stepsByName.get(group.name)?.fanout ? group.name : undefined;
}

/** Every instance the run has added, in the order added: what follows the other steps in allSteps. */
export function instanceDefs(dag: DagDef, state: RunState | undefined): StepDef[] {
  return (state?.fanoutInstances ?? []).flatMap((name) => {
    const id = parseInstanceName(name);
    const parent = id && dag.steps.find((s) => s.name === id.parent);
    return parent && id ? [instanceDef(parent, id.n, state?.steps[name]?.item ?? "")] : [];
  });
}

/** The instances of the fan-out step's current expansion, with their position among the added ones. */
export function currentInstances(state: RunState, parent: string): Array<{ name: string; position: number }> {
  const count = state.steps[parent]?.instances ?? 0;
  const added = state.fanoutInstances ?? [];
  return Array.from({ length: count }, (_, i) => {
    const name = instanceName(parent, i + 1);
    return { name, position: added.indexOf(name) };
  });
}

export type ItemsResult = { ok: true; items: string[] } | { ok: false; error: string };

/**
 * The items a fan-out step's variable holds now. The value is a JSON array (a string item as it
 * is, anything else as its JSON text), or else a list separated by blanks and newlines; a JSON
 * object, JSON that does not parse, or more than MAX_FANOUT_ITEMS items is an error.
 */
export function resolveItems(
  dag: DagDef,
  def: StepDef,
  run: {
    runId: string;
    params: ResolvedParams;
    outputs: Record<string, string>;
    evaluatedEnv?: Record<string, string>;
  },
): ItemsResult {
  const listed = def.fanout?.items;
  if (Array.isArray(listed)) return { ok: true, items: listed };
  const ref = listed ?? "";
  const m = ITEMS_REF.exec(ref);
  if (!m) return { ok: false, error: `parallel items ${ref} is not a variable reference` };
  const name = m[1] as string;
  const fail = (why: string): ItemsResult => ({ ok: false, error: `parallel items ${ref}: ${why}` });
  const spec = buildExecSpec(dag, def, { ...run, maxOutputBytes: 0 });
  if (!Object.hasOwn(spec.env, name))
    return fail(`${name} is not a param, env entry, run variable or output of this run`);
  if (spec.shellEnv?.includes(name)) {
    return fail(`${name} is computed by the runner's shell (backticks); parallel items cannot use it`);
  }
  let text = spec.env[name] as string;
  if (m[2]) {
    text = expandJsonPaths(ref, run.outputs);
    if (text === ref) return fail(`the path leads nowhere in the output ${name}`);
  }
  const items = parseItems(text);
  if (!items.ok) return fail(items.error);
  if (items.items.length > MAX_FANOUT_ITEMS) {
    return fail(`${items.items.length} items, more than the ${MAX_FANOUT_ITEMS} a parallel step may have`);
  }
  return items;
}

export function parseItems(value: string): ItemsResult {
  const text = value.trim();
  if (text.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { ok: false, error: `the value starts with "[" but is not a JSON array (${(err as Error).message})` };
    }
    if (!Array.isArray(parsed)) return { ok: false, error: "the value is not a JSON array" };
    return { ok: true, items: parsed.map((x) => (typeof x === "string" ? x : JSON.stringify(x))) };
  }
  if (text.startsWith("{")) return { ok: false, error: "the value is a JSON object, not a list" };
  return { ok: true, items: text === "" ? [] : text.split(/\s+/) };
}

export interface FanoutOutcome {
  status: FinalStepStatus;
  error?: string;
  /** Of the instance that decided a failure: continueOn judges the fan-out step by them. */
  exitCode?: number | null;
  outputMatched?: boolean;
}

/**
 * The fan-out step's status once its instances are all done, so that its dependents and the run
 * fare as they would after the same instances listed in the DAG file: the first instance that
 * would hold dependents back (in item order) gives its status (a failure, with its exit code,
 * so continueOn judges it the same); otherwise failures continueOn covers make the step
 * partially_succeeded (some instance succeeded) or failed (none did), all skipped is skipped,
 * and anything else succeeded.
 */
export function deriveFanoutStatus(
  instances: StepState[],
  letsDependentsRun: (s: StepState) => boolean,
): FanoutOutcome {
  const total = instances.length;
  const describe = (s: StepState) => `instance ${s.name} ${s.status}${s.error ? ` (${s.error})` : ""}`;
  const failed = instances.filter((s) => s.status === "failed");
  const blocker = instances.find((s) => !letsDependentsRun(s));
  if (blocker) {
    const others = failed.length > 1 ? `; ${failed.length} of ${total} instances failed` : "";
    return {
      // Asked once every instance is done: its status is a final one.
      status: blocker.status as FinalStepStatus,
      error: `${describe(blocker)}${others}`,
      exitCode: blocker.exitCode,
      outputMatched: blocker.outputMatched,
    };
  }
  const first = failed[0];
  if (first) {
    const succeeded = instances.some((s) => s.status === "succeeded" || s.status === "partially_succeeded");
    return {
      status: succeeded ? "partially_succeeded" : "failed",
      error: `${failed.length} of ${total} instances failed (continueOn lets the DAG go on); first: ${describe(first)}`,
      exitCode: first.exitCode,
      outputMatched: first.outputMatched,
    };
  }
  if (instances.every((s) => s.status === "skipped")) return { status: "skipped", error: "every instance was skipped" };
  return { status: "succeeded" };
}

const SUCCEEDED = new Set(["succeeded", "partially_succeeded"]);
const FAILED = new Set(["failed", "aborted", "rejected"]);

/**
 * Dagu's output of a parallel step, as JSON text (indented as Dagu writes it): `summary` (total
 * items, succeeded, failed), `results` (one per instance that ran, in item order: its sub-DAG
 * run's name, dagRunId, params, outputs and status; for a command instance its own name and
 * ITEM) and `outputs` (the output variables of the instances that succeeded). A skipped instance
 * counts neither as succeeded nor as failed.
 */
export function aggregateOutput(parent: StepDef, instances: StepState[]): string {
  const summary = { total: instances.length, succeeded: 0, failed: 0 };
  const results: Array<Record<string, unknown>> = [];
  const outputs: Array<Record<string, string>> = [];
  for (const s of instances) {
    if (s.startedAt === undefined) continue;
    const r = s.result;
    const own = r?.outputs ?? {};
    results.push({
      name: parent.call ? (r?.dagName ?? parent.call.dag) : s.name,
      ...((r?.dagRunId ?? s.subRuns?.at(-1)) && { dagRunId: r?.dagRunId ?? s.subRuns?.at(-1) }),
      params: r?.params ?? s.item ?? "",
      outputs: own,
      status: s.status,
    });
    if (SUCCEEDED.has(s.status)) {
      summary.succeeded++;
      outputs.push(own);
    } else if (FAILED.has(s.status)) summary.failed++;
  }
  return JSON.stringify({ summary, results, outputs }, null, 2);
}
