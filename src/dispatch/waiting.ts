// Why a ready step is not running: when no live runner of its pool matches its workerSelector,
// run details say so on the step ("waiting: no live runner matches {gpu=true, pool=default}")
// instead of leaving it silently queued. Computed when details are read, from the fleet each
// pool's dispatcher knows; the run's own state is not touched.

import type { StepDef } from "../dag/types";
import type { Env } from "../env";
import { createContext } from "../run/engine";
import type { RunSnapshot } from "../run/object/rpc";
import { poolOf, type Selector, selectorOf } from "../shared/selector";
import { dispatcherFor } from "../stubs";

/**
 * Step name -> why it waits, for the queued steps no live runner can take; of `defs` when given
 * (the steps a live patch shows), else of every step the machine dispatches.
 */
export async function waitingReasons(
  env: Env,
  snap: RunSnapshot,
  now = Date.now(),
  defs?: StepDef[],
): Promise<Map<string, string>> {
  const byPool = new Map<string, Array<{ step: string; selector: Selector }>>();
  // Every step the machine dispatches: the DAG's, its handlers, the DAG precondition check and
  // the instances fan-out steps added (the lease TTL plays no part here).
  for (const def of defs ?? createContext(snap.dag, 0, { state: snap.state }).allSteps) {
    if (snap.state.steps[def.name]?.phase.kind !== "queued") continue;
    const selector = selectorOf(snap.dag, def);
    const pool = poolOf(selector);
    byPool.set(pool, [...(byPool.get(pool) ?? []), { step: def.name, selector }]);
  }
  const reasons = new Map<string, string>();
  const ask = Promise.all(
    [...byPool].map(async ([pool, queued]) => {
      const why = await dispatcherFor(env, pool).whyWaiting(
        queued.map((q) => q.selector),
        now,
      );
      queued.forEach((q, i) => {
        const reason = why[i];
        if (reason) reasons.set(q.step, reason);
      });
    }),
  );
  try {
    await ask;
  } catch (err) {
    // A hint, not the run's state: details are still served without it.
    console.error("waiting reasons unavailable", err);
  }
  return reasons;
}
