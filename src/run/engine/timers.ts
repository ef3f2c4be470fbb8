// Every timer a run keeps, as one typed union, and the one place that turns a timer into the key
// stored in the RunObject's timers table and back. PURE.
//
// The engine's own timers (`lease`, `timeout`, `retry`, `repeat`, `run:timeout`, `run:delay`)
// come back to it as a `timer` event; the effect-retry timers (`enqueue`, `child`, `stopchild`,
// `summary`) are the RunObject's: they retry an effect that could not be performed.

export type Timer =
  /** A lease must be confirmed or renewed by then, or it is lost. */
  | { kind: "lease"; step: string }
  /** The server's own timeout of a step (after the runner's, in case the runner is gone). */
  | { kind: "timeout"; step: string }
  /** The wait before a failed step's next attempt. */
  | { kind: "retry"; step: string }
  /** The wait before a repeating step's next execution. */
  | { kind: "repeat"; step: string }
  /** The DAG's timeoutSec. */
  | { kind: "run:timeout" }
  /** The DAG's delaySec before its first steps. */
  | { kind: "run:delay" }
  /** Hand a dispatched step to the dispatcher (again). */
  | { kind: "enqueue"; step: string }
  /** Create and start a call step's sub-DAG run (again). */
  | { kind: "child"; step: string }
  /** Stop a sub-DAG run (again). */
  | { kind: "stopchild"; runId: string }
  /** Write the run's D1 summary (again). */
  | { kind: "summary" };

export type TimerKind = Timer["kind"];

/** Timers the engine handles itself (a `timer` event); the others are the RunObject's. */
export type EngineTimer = Extract<
  Timer,
  { kind: "lease" | "timeout" | "retry" | "repeat" | "run:timeout" | "run:delay" }
>;

const STEP_KINDS = ["lease", "timeout", "retry", "repeat", "enqueue", "child"] as const;
type StepKind = (typeof STEP_KINDS)[number];
const isStepKind = (k: string): k is StepKind => (STEP_KINDS as readonly string[]).includes(k);

/** The key a timer is stored under: `<kind>:<step>`, `stopchild:<run>`, or the kind alone. */
export function encodeTimer(t: Timer): string {
  switch (t.kind) {
    case "run:timeout":
    case "run:delay":
    case "summary":
      return t.kind;
    case "stopchild":
      return `stopchild:${t.runId}`;
    default:
      return `${t.kind}:${t.step}`;
  }
}

/** The timer a stored key names; undefined for a key no version of dagflare wrote. */
export function decodeTimer(key: string): Timer | undefined {
  if (key === "run:timeout" || key === "run:delay" || key === "summary") return { kind: key };
  const colon = key.indexOf(":");
  if (colon < 0) return undefined;
  const kind = key.slice(0, colon);
  const rest = key.slice(colon + 1);
  if (kind === "stopchild") return { kind, runId: rest };
  return isStepKind(kind) ? { kind, step: rest } : undefined;
}

export function isEngineTimer(t: Timer): t is EngineTimer {
  return (
    t.kind === "lease" ||
    t.kind === "timeout" ||
    t.kind === "retry" ||
    t.kind === "repeat" ||
    t.kind === "run:timeout" ||
    t.kind === "run:delay"
  );
}

/** The keys of the engine's timers, as effects and events carry them. */
export const timerKey = {
  lease: (step: string) => encodeTimer({ kind: "lease", step }),
  timeout: (step: string) => encodeTimer({ kind: "timeout", step }),
  retry: (step: string) => encodeTimer({ kind: "retry", step }),
  repeat: (step: string) => encodeTimer({ kind: "repeat", step }),
  runTimeout: encodeTimer({ kind: "run:timeout" }),
  runDelay: encodeTimer({ kind: "run:delay" }),
};
