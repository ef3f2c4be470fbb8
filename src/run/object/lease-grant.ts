// A lease as the RunObject grants it: the claim event for a dispatch (a lease id naming the step
// and dispatch, a fresh fencing token), and the lease handed to the runner once the machine
// granted that claim, with everything the runner needs to run the step.
import { buildExecSpec } from "../../dag/exec-spec";
import type { StepRefValues } from "../../dag/refs";
import type { StepDef } from "../../dag/types";
import { MAX_OFFER_DEPTH, MAX_OUTPUT_BYTES } from "../../limits";
import { formatLeaseId } from "../../shared/lease-id";
import {
  type ExecSpec,
  type Lease,
  type LeaseOffer,
  type LogsInCompletion,
  MAX_COMPLETION_LOG_BYTES,
  MAX_COMPLETION_LOG_ENTRIES,
} from "../../shared/protocol";
import { offerChain } from "../chain-successor";
import { DAG_ENV_STEP, type MachineContext, type RunEvent, type RunState } from "../engine";
import { stepRefValues } from "../step-refs";
import type { StoredInit } from "./run-store";

/** What an offered step's completion may carry of its log (src/run/object/completions.ts). */
const LOGS_IN_COMPLETION: LogsInCompletion = {
  maxBytes: MAX_COMPLETION_LOG_BYTES,
  maxEntries: MAX_COMPLETION_LOG_ENTRIES,
};

/** A claim event, as the machine takes it. */
export type ClaimEvent = Extract<RunEvent, { type: "claim" }>;

/** The run as its object holds it, as far as a lease needs it. */
export interface HeldRun {
  readonly init?: StoredInit;
  readonly state?: RunState;
  readonly machine: MachineContext;
}

/**
 * A claim of a step of `context` (fan-out instances included) with a fresh fencing token, or
 * undefined when the context has no such step: its lease id could not name it.
 */
export function claimEvent(
  init: StoredInit | undefined,
  context: MachineContext,
  step: string,
  dispatchSeq: number,
  runnerId: string,
): ClaimEvent | undefined {
  const stepIndex = context.indexOf.get(step);
  if (stepIndex === undefined || !init) return undefined;
  const leaseId = formatLeaseId({ runId: init.runId, stepIndex, dispatchSeq });
  return { type: "claim", step, dispatchSeq, runnerId, leaseId, token: randomToken() };
}

/**
 * The lease handed to a runner for a claim the machine granted, with the chain ahead that the
 * runner may run when this step exits 0 (`successor`, nested, src/run/chain-successor.ts).
 * Nothing is stored for an offer: it is what the completions would lease, computed now.
 */
export function leaseFor(run: HeldRun, claim: ClaimEvent, attempt: number): Lease | undefined {
  const def = run.machine.stepsByName.get(claim.step);
  const { init, state } = run;
  if (!init || !state || !def) return undefined;
  const steps = stepRefValues(init.dag, state);
  const lease: Lease = {
    leaseId: claim.leaseId,
    token: claim.token,
    runId: init.runId,
    dagName: init.dag.name,
    stepName: claim.step,
    attempt,
    ttlMs: init.leaseTtlMs,
    heartbeatIntervalMs: Math.max(100, Math.floor(init.leaseTtlMs / 3)),
    exec: execSpecOf(init, state, def, steps),
  };
  const successor = offersAfter(run.machine, init, state, claim.step, steps);
  if (successor) lease.successor = successor;
  return lease;
}

/** The leases the chain after `step` would get if each step before succeeded now, nested. */
function offersAfter(
  machine: MachineContext,
  init: StoredInit,
  state: RunState,
  step: string,
  steps: Record<string, StepRefValues>,
): LeaseOffer | undefined {
  let first: LeaseOffer | undefined;
  let last: LeaseOffer | undefined;
  for (const name of offerChain(machine, state, step, MAX_OFFER_DEPTH)) {
    const def = machine.stepsByName.get(name);
    const stepIndex = machine.indexOf.get(name);
    const s = state.steps[name];
    if (!def || stepIndex === undefined || !s) break;
    // What dispatch (dispatchSeq + 1) and the claim (attempt + 1) will give it.
    const offer: LeaseOffer = {
      leaseId: formatLeaseId({ runId: init.runId, stepIndex, dispatchSeq: s.dispatchSeq + 1 }),
      stepName: name,
      attempt: s.attempt + 1,
      exec: execSpecOf(init, state, def, steps),
      // Its completion may bring its output along, taken with it or dropped with it.
      logsInCompletion: LOGS_IN_COMPLETION,
    };
    if (last) last.successor = offer;
    else first = offer;
    last = offer;
  }
  return first;
}

function execSpecOf(init: StoredInit, state: RunState, def: StepDef, steps: Record<string, StepRefValues>): ExecSpec {
  return buildExecSpec(init.dag, def, {
    runId: init.runId,
    params: init.params,
    outputs: state.outputs,
    maxOutputBytes: init.dag.maxOutputSize ?? MAX_OUTPUT_BYTES,
    runStatus: state.handlers?.status,
    steps,
    evaluatedEnv: state.steps[DAG_ENV_STEP]?.envValues,
    stepEnv: state.steps[def.name]?.envValues,
    reportDagEnv: def.name === DAG_ENV_STEP,
  });
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
