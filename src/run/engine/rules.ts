// Dagu's rules about one step's outcome and about waits. PURE.
import type { StepDef } from "../../dag/types";
import { MAX_SERVER_TIMER_SEC } from "../../limits";
import type { RunStatus } from "../../status";
import type { StepState } from "./types";

/** Whether a step's outcome lets its dependents run. */
export function letsDependentsRun(def: StepDef, step: StepState): boolean {
  switch (step.status) {
    case "succeeded":
    case "partially_succeeded":
      return true;
    case "failed":
      return continueCovers(def, step);
    case "skipped":
      return def.continueOn.skipped;
    default:
      return false;
  }
}

/** Whether continueOn lets the DAG go on after this failed step. */
export function continueCovers(def: StepDef, step: Pick<StepState, "exitCode" | "outputMatched">): boolean {
  const c = def.continueOn;
  return (
    c.failure ||
    (step.exitCode != null && c.exitCode.includes(step.exitCode)) ||
    (Boolean(c.output?.length) && step.outputMatched === true)
  );
}

/**
 * `base * backoff^(n-1)` seconds for the n-th wait (n from 1), capped by maxIntervalSec, and
 * by the longest timer the server runs (a backoff grows past any date a timer can take).
 */
export function intervalMs(p: { intervalSec: number; backoff?: number; maxIntervalSec?: number }, n: number): number {
  let sec = p.intervalSec * (p.backoff ? p.backoff ** Math.max(0, n - 1) : 1);
  sec = Math.min(sec, p.maxIntervalSec ?? MAX_SERVER_TIMER_SEC, MAX_SERVER_TIMER_SEC);
  return Math.round(sec * 1000);
}

/** A run whose steps may still be started: running, or shown as waiting for an approval. */
export const isActive = (s: RunStatus): boolean => s === "running" || s === "waiting";
