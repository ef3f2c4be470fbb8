// Which step a runner may start on its own the moment a step it holds exits 0: the step's chain
// successor, offered with its lease (`successor`, docs/runner-protocol.md#a-chains-next-step-started-early).
// The runner runs the offered spec before the server has leased it, so the rules are strict: the
// successor must be ready the instant its predecessor succeeds, and leased then with exactly the
// spec offered now. Anything that could change either is a reason not to offer. PURE.
import type { DagDef, StepDef } from "../dag/types";
import { selectorOf } from "../shared/selector";
import { DAG_ENV_STEP } from "./engine/context";
import type { MachineContext, RunState } from "./engine/types";

/**
 * `${NAME.path}` or `${NAME[0]}`: a step's result (`${id.stdout}`, `${id.exitCode}`) or a path
 * into an output (src/dag/refs.ts). Such a value is only known once the steps before have run.
 */
const RESULT_REF = /\$\{[A-Za-z_][A-Za-z0-9_]*[.[]/;

/** Why `step` has no successor to offer, or the successor's name. */
export type SuccessorCheck = { successor: string } | { none: string };

/**
 * The successor of `step` (leased now) that the runner may start when `step` exits 0, or why
 * there is none. Every rule is one line below; the unit tests name each.
 */
export function checkSuccessor(ctx: MachineContext, state: RunState, step: string): SuccessorCheck {
  const a = ctx.stepsByName.get(step);
  const next = ctx.dependents.get(step) ?? [];
  if (!a) return { none: "unknown step" };
  // Only DAG steps have dependents: handlers, the env step and fan-out instances never offer.
  if (next.length !== 1) return { none: next.length ? "several dependents" : "no dependent" };
  const name = next[0] as string;
  const b = ctx.stepsByName.get(name);
  if (!b) return { none: "unknown dependent" };
  const why = predecessorRule(a) ?? successorRule(ctx, a, b) ?? runRule(ctx, state, b);
  return why === undefined ? { successor: name } : { none: why };
}

/**
 * The chain ahead of `step`, in order, each step the successor of the one before by the rules of
 * `checkSuccessor`, at most `depth` long. Each is checked on the state as it is now, which stands
 * for the state after the steps before it succeeded: a step the chain runs through is idle and
 * neither captures an output nor repeats (the predecessor rule), so the run rules (running, no
 * maxActiveSteps, the env evaluated, no output that may arrive first) and the spec each is leased
 * with hold for it as they hold for the first; the step, successor and label rules are static.
 */
export function offerChain(ctx: MachineContext, state: RunState, step: string, depth: number): string[] {
  const chain: string[] = [];
  for (let from = step; chain.length < depth; ) {
    const check = checkSuccessor(ctx, state, from);
    if (!("successor" in check) || chain.includes(check.successor)) break;
    chain.push(check.successor);
    from = check.successor;
  }
  return chain;
}

/** Rules on the step that exits: its exit 0 must mean "succeeded, go on" and nothing else. */
function predecessorRule(a: StepDef): string | undefined {
  // Its output would become the successor's env; under a repeatPolicy exit 0 may mean "again".
  if (a.output !== undefined) return "the step captures an output";
  if (a.repeatPolicy) return "the step repeats";
  return undefined;
}

/** Rules on the successor: a plain command whose spec its predecessor's result cannot change. */
function successorRule(ctx: MachineContext, a: StepDef, b: StepDef): string | undefined {
  if (b.depends.length !== 1 || b.depends[0] !== a.name) return "the successor has other dependencies";
  if (ctx.handlerNames.has(b.name)) return "the successor is a handler";
  if (b.call) return "the successor calls a sub-DAG";
  if (b.fanout || b.parallelGroup) return "the successor fans out";
  if (b.approval) return "the successor waits for approval";
  if (b.command === undefined && b.script === undefined) return "the successor runs no command";
  if (b.preconditions?.length) return "the successor has preconditions";
  if (readsResults(ctx.dag, b)) return "the successor reads a step's result";
  if (!within(selectorOf(ctx.dag, b), selectorOf(ctx.dag, a))) return "the successor needs other runner labels";
  return undefined;
}

/** Rules on the run as it is now: nothing that could hold the successor back or change its spec. */
function runRule(ctx: MachineContext, state: RunState, b: StepDef): string | undefined {
  if (state.stopRequested || state.handlers || (state.status !== "running" && state.status !== "waiting"))
    return "the run is not running its steps";
  // With maxActiveSteps a held step may take the slot the predecessor frees.
  if (ctx.dag.maxActiveSteps !== undefined) return "the DAG limits its active steps";
  const s = state.steps[b.name];
  // Made ready once already (a retry of the run resets it): settle would not make it ready again.
  if (s?.phase.kind !== "idle" || s.readyAt !== undefined) return "the successor is not waiting";
  const env = state.steps[DAG_ENV_STEP];
  if (env && env.phase.kind !== "done") return "the DAG's env is not evaluated yet";
  for (const { name, ancestors } of outputSteps(ctx)) {
    // Every output is env of every later step: one that may still arrive first would change it.
    if (name === b.name || ancestors.has(b.name)) continue;
    if (state.steps[name]?.phase.kind !== "done") return `step ${name} may set an output first`;
  }
  return undefined;
}

/** Whether the texts the successor's spec is built from hold a `${NAME.path}` reference. */
function readsResults(dag: DagDef, b: StepDef): boolean {
  const texts = [b.command, b.script, b.dir, b.stdout, b.stderr, dag.workingDir, ...b.env.map(([, v]) => v)];
  for (const [, v] of dag.env) texts.push(v);
  return texts.some((t) => t !== undefined && RESULT_REF.test(t));
}

/** Every label `inner` asks for, `outer` asks for too: a runner that matches outer matches inner. */
function within(inner: Record<string, string>, outer: Record<string, string>): boolean {
  return Object.entries(inner).every(([k, v]) => outer[k] === v);
}

interface OutputStep {
  name: string;
  /** The steps it waits for, directly or not: it cannot end before any of them is leased. */
  ancestors: Set<string>;
}

/** The DAG's steps that set output variables, with their ancestors: once per context. */
const outputStepsOf = new WeakMap<MachineContext, OutputStep[]>();

function outputSteps(ctx: MachineContext): OutputStep[] {
  let found = outputStepsOf.get(ctx);
  if (found) return found;
  found = ctx.dag.steps
    .filter((s) => s.output !== undefined)
    .map((s) => ({ name: s.name, ancestors: ancestors(ctx, s) }));
  outputStepsOf.set(ctx, found);
  return found;
}

function ancestors(ctx: MachineContext, from: StepDef): Set<string> {
  const seen = new Set<string>();
  const todo = [...from.depends];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    todo.push(...(ctx.stepsByName.get(name)?.depends ?? []));
  }
  return seen;
}
