// Leases: asking for work, the lease a runner holds, its heartbeat and its release.
import * as z from "zod/mini";
import { ExecSpec } from "./exec-spec.ts";

export const RUNNER_API_PREFIX = "/api/v2/runners";
/** Longest a lease request may wait for work before it returns empty. */
export const MAX_LEASE_WAIT_MS = 25_000;
export const MAX_LEASES_PER_REQUEST = 64;

/**
 * The step a runner may start as soon as the leased step exits 0, before its completion's reply
 * (docs/runner-protocol.md#a-chains-next-step-started-early): what its lease will be. The runner
 * goes on with it only once a reply grants a lease of this id, attempt and spec.
 */
export interface LeaseOffer {
  /** The lease id its lease will have (`<runId>.<stepIndex>.<dispatchSeq>`). */
  leaseId: string;
  stepName: string;
  attempt: number;
  exec: ExecSpec;
  /**
   * The step after it, which the runner may start when this one exits 0 in turn: the chain ahead,
   * one offer inside the other, up to the server's depth. An older runner reads only the first.
   */
  successor?: LeaseOffer;
  /**
   * Its completion may carry its log entries not shipped yet, up to these bounds
   * (docs/runner-protocol.md#a-steps-output-with-its-completion); absent from an older server,
   * which takes none: the step then ships its log under its lease first.
   */
  logsInCompletion?: LogsInCompletion;
}
export interface LogsInCompletion {
  maxBytes: number;
  maxEntries: number;
}
export const LeaseOffer: z.ZodMiniType<LeaseOffer> = z.object({
  leaseId: z.string(),
  stepName: z.string(),
  attempt: z.int().check(z.positive()),
  exec: ExecSpec,
  get successor() {
    return z.optional(LeaseOffer);
  },
  logsInCompletion: z.optional(
    z.object({ maxBytes: z.int().check(z.nonnegative()), maxEntries: z.int().check(z.nonnegative()) }),
  ),
});

export const Lease = z.object({
  /** `<runId>.<stepIndex>.<dispatchSeq>`: names the run, so calls route without a lookup. */
  leaseId: z.string(),
  /** Fencing token: only calls carrying the current token for this lease are accepted. */
  token: z.string(),
  runId: z.string(),
  dagName: z.string(),
  stepName: z.string(),
  /** Attempt number of this step, from 1. */
  attempt: z.int().check(z.positive()),
  ttlMs: z.int().check(z.positive()),
  heartbeatIntervalMs: z.int().check(z.positive()),
  exec: ExecSpec,
  /**
   * The chain's next step, offered to start early; absent when the server offers none. (Not
   * `then`: an object with a `then` is taken for a promise by `await`.)
   */
  successor: z.optional(LeaseOffer),
});
export type Lease = z.infer<typeof Lease>;

export const LeaseRequest = z.object({
  /** Stable for the life of a runner process; shown in run details. */
  runnerId: z.string().check(z.minLength(1), z.maxLength(200)),
  labels: z._default(z.record(z.string(), z.string()), {}),
  /** Free slots: at most this many leases are returned. */
  max: z.int().check(z.gte(1), z.lte(MAX_LEASES_PER_REQUEST)),
  /** How long to wait for work when none is ready (long poll). */
  waitMs: z._default(z.int().check(z.gte(0), z.lte(MAX_LEASE_WAIT_MS)), MAX_LEASE_WAIT_MS),
});
export type LeaseRequest = z.input<typeof LeaseRequest>;

export const LeaseResponse = z.object({ leases: z.array(Lease) });
export type LeaseResponse = z.infer<typeof LeaseResponse>;

export const HeartbeatRequest = z.object({ token: z.string() });
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.object({
  /** True when the step was stopped: kill the process group and complete with cancelled. */
  cancel: z.boolean(),
  ttlMs: z.int().check(z.positive()),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const ReleaseRequest = z.object({
  token: z.string(),
  reason: z._default(z.string().check(z.maxLength(500)), "runner shutting down"),
});
export type ReleaseRequest = z.input<typeof ReleaseRequest>;
