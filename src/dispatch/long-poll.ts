// A runner's HTTP long poll for leases, run in the Worker: up to `max` leases, waiting up to
// `waitMs` for the first. In the Worker, a poll whose runner disconnected stops here (the
// Worker's request is cancelled) instead of in the Durable Object, where it would go on and take
// a lease for nobody.
import type { Env } from "../env";
import { parseLeaseId } from "../shared/lease-id";
import type { Lease } from "../shared/protocol";
import { poolOf } from "../shared/selector";
import { dispatcherFor, runStub } from "../stubs";
import type { LeaseAsk } from "./task-queue";

export async function longPollLeases(
  env: Env,
  ask: LeaseAsk,
  waitMs: number,
  recheck: () => Promise<void> = async () => {},
): Promise<Lease[]> {
  const dispatcher = dispatcherFor(env, poolOf(ask.labels));
  const deadline = ask.askedAt + waitMs;
  for (;;) {
    const leases = await dispatcher.take(ask);
    if (leases.length > 0) {
      // The caller's token may have been revoked while it waited: then the leases go back.
      await recheck().catch(async (err: unknown) => {
        await giveBack(env, leases, "runner token revoked");
        throw err;
      });
      return leases;
    }
    const left = deadline - Date.now();
    if (left <= 0) return [];
    // An idle poll costs this call and the take before it, however many tasks other runners get.
    const woke = await dispatcher.waitForWork(left, ask);
    // Timed out; or the runner was lost since it asked, and it gets its answer now and asks again at once.
    if (woke === "timeout" || woke === "leftover") return [];
    // Tasks already pending after an empty take: another poll raced us to them, or their
    // runs could not be reached; pause briefly instead of spinning.
    if (woke === "pending") await new Promise((r) => setTimeout(r, 50));
  }
}

/** Hands leases back to their runs, which dispatch the steps again without counting an attempt. */
async function giveBack(env: Env, leases: Lease[], reason: string): Promise<void> {
  await Promise.allSettled(
    leases.map((l) => runStub(env, l.runId).release(parseLeaseId(l.leaseId)?.stepIndex ?? -1, l.token, reason)),
  );
}
