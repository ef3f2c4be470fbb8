// How the runner protocol's refusals cross RPC: as data (an Outcome), never as a thrown error,
// since an error's class does not survive the trip.
import { fail, type Outcome } from "../../errors";
import type { Reply } from "../engine";

export function staleLease(reason: string): Outcome<never> {
  return fail("not_running", 409, `lease is not current: ${reason}`, { reason });
}

export function staleFrom(reply: Reply): Outcome<never> {
  return staleLease(reply.kind === "stale" ? reply.reason : "unexpected state");
}
