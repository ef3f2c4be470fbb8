// workerSelector: which runners may run a step. The DAG's selector is every step's default; a
// step's own selector is merged over it (a key in both takes the step's value). The reserved
// label `pool` names the runner pool (a runner's --pool): a step goes only to runners of its
// pool, and a step without one goes to the pool "default".
// PURE.
// (No imports here: the runner bundles this file. The reader is in read-selector.ts.)

export type Selector = Record<string, string>;

export const POOL_LABEL = "pool";
export const DEFAULT_POOL = "default";
export const POOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/;

/** The step's effective selector, with its pool always set. */
export function selectorOf(dag: { workerSelector?: Selector }, step: { workerSelector?: Selector }): Selector {
  return { [POOL_LABEL]: DEFAULT_POOL, ...dag.workerSelector, ...step.workerSelector };
}

export function poolOf(labelsOrSelector: Record<string, string>): string {
  return labelsOrSelector[POOL_LABEL] ?? DEFAULT_POOL;
}

/** Whether a runner with `labels` may run a step with `selector` (the pool defaults on both sides). */
export function matches(selector: Selector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) {
    const have = k === POOL_LABEL ? poolOf(labels) : labels[k];
    if (have !== v) return false;
  }
  return true;
}

/** `{gpu=true, pool=default}`, as run details show it. */
export function formatSelector(selector: Selector): string {
  return `{${Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}}`;
}
