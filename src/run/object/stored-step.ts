// A step as it is stored (one JSON row per step) and the upgrade of the rows written before
// steps had a phase: then a step was its status plus flags (`queued`, `pending`, a `lease` with
// `confirmed`, a `child`), and `running` meant a lease, a sub-DAG call, a fan-out step waiting for
// its instances, or a wait between repeats. Fields added since are optional and read as unknown
// when a row lacks them (a finished step's `runnerId`: the runner that ran it). PURE.
import type { StepStatus } from "../../status";
import { isTerminalStep } from "../../status";
import { type Phase, type StepLease, type StepState, statusOf, timerKey } from "../engine";

/** The flags a step carried before it had a phase. */
interface FlagsV1 {
  status: StepStatus;
  queued?: boolean;
  pending?: boolean;
  lease?: StepLease & { confirmed?: boolean };
  child?: { runId: string; stopRequested?: boolean };
}

/** A stored step row: the current shape, or the one before phases. */
export type StoredStep = StepState | (Omit<StepState, "phase" | "status"> & FlagsV1);

/** When a timer of the run is due, by its stored key. */
export type TimerAt = (key: string) => number | undefined;

/** Whether a stored row needs `upgradeStep` (it was written before phases). */
export const isOldShape = (row: StoredStep): boolean => !("phase" in row);

/**
 * The step in the current shape. A wait's due time is its timer's (`retry:`/`repeat:`); a wait
 * whose timer is gone is due at once (0), as its firing would have made it.
 */
export function upgradeStep(row: StoredStep, timerAt: TimerAt): StepState {
  if (!isOldShape(row)) return row as StepState;
  const {
    queued,
    pending,
    lease,
    child,
    status: _status,
    ...rest
  } = row as Omit<StepState, "phase" | "status"> & FlagsV1;
  const phase = phaseOfV1(row as Omit<StepState, "phase" | "status"> & FlagsV1, timerAt);
  return { ...rest, phase, status: statusOf(phase) };
}

function phaseOfV1(s: Omit<StepState, "phase" | "status"> & FlagsV1, timerAt: TimerAt): Phase {
  if (isTerminalStep(s.status)) return { kind: "done", status: s.status };
  switch (s.status) {
    case "waiting":
      return { kind: "awaitingApproval" };
    case "retrying":
      return { kind: "retryWait", at: timerAt(timerKey.retry(s.name)) ?? 0 };
    case "running": {
      if (s.lease) {
        const { confirmed, ...lease } = s.lease;
        return { kind: confirmed ? "running" : "leased", lease };
      }
      if (s.child) return { kind: "calling", childRunId: s.child.runId, stopRequested: s.child.stopRequested === true };
      // Only an expanded fan-out step has an instance count; a running step without a lease,
      // a sub-DAG run or instances was waiting for its next execution under a repeatPolicy.
      if (s.instances !== undefined) return { kind: "fannedOut" };
      return { kind: "repeatWait", at: timerAt(timerKey.repeat(s.name)) ?? 0 };
    }
    default:
      if (s.queued) return { kind: "queued" };
      if (s.pending) return { kind: "held" };
      return { kind: "idle" };
  }
}
