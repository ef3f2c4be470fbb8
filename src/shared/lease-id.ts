// A lease id, `<runId>.<stepIndex>.<dispatchSeq>`: it names the run, so every call about a lease
// goes straight to that run's Durable Object without a lookup. PURE, no imports: the runner
// uses it too.

const LEASE_ID = /^([a-zA-Z0-9_-]{1,64})\.(\d{1,6})\.(\d{1,9})$/;

export interface LeaseIdParts {
  runId: string;
  /** The step's index in the run's steps (handlers and fan-out instances included). */
  stepIndex: number;
  dispatchSeq: number;
}

export function formatLeaseId(parts: LeaseIdParts): string {
  return `${parts.runId}.${parts.stepIndex}.${parts.dispatchSeq}`;
}

/** The parts of a well-formed lease id; undefined for anything else. */
export function parseLeaseId(leaseId: string): LeaseIdParts | undefined {
  const m = LEASE_ID.exec(leaseId);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { runId: m[1], stepIndex: Number(m[2]), dispatchSeq: Number(m[3]) };
}
