// A run's life as its object sees it: created (at once, or queued for admission), started,
// stopped, told that a sub-DAG run it called has ended, and removed once finished.
import { fail, type Outcome, ok } from "../../errors";
import { isTerminalRun } from "../../status";
import type { RunState } from "../engine";
import type { RunInit, SubRunReport } from "./rpc";
import type { RunCore } from "./run-core";

/**
 * Creates the run and starts it. Idempotent for the same run id. A run that cannot start
 * (its DAG holds a value past today's limits, stored before they were checked) leaves
 * nothing under its id: the caller removes its index row, and the id can be used again.
 */
export async function start(run: RunCore, input: RunInit): Promise<Outcome<void>> {
  const fresh = !run.init;
  run.prepare(input, "not_started");
  try {
    await run.fire({ type: "start" });
  } catch (err) {
    if (!fresh) throw err;
    console.error(`run ${input.runId}: could not start`, err);
    await run.wipe();
    return fail(
      "bad_request",
      400,
      `DAG-run ${input.runId} could not start (${(err as Error).message}); save the DAG's spec again to check it against the limits`,
    );
  }
  return ok(undefined);
}

/** Starts a prepared run that admission let through; answers the status it is in after. */
export async function admit(run: RunCore): Promise<Outcome<RunState["status"]>> {
  if (!run.state) return fail("not_found", 404, "run not found");
  await run.fire({ type: "start" });
  return ok(run.state.status);
}

export async function stop(run: RunCore): Promise<Outcome<void>> {
  if (!run.state) return fail("not_found", 404, "run not found");
  await run.fire({ type: "stop" });
  return ok(undefined);
}

/** A sub-DAG run this run started has ended (called by that run; repeats are harmless). */
export async function childFinished(run: RunCore, report: SubRunReport): Promise<Outcome<void>> {
  // A parent removed in the meantime has nothing to mirror.
  if (!run.state?.steps[report.step]) return ok(undefined);
  await run.fire({ type: "childDone", ...report });
  return ok(undefined);
}

/** Deletes everything this run stored. Refused while the run is not finished. */
export async function destroy(run: RunCore): Promise<Outcome<void>> {
  if (run.state && !isTerminalRun(run.state.status)) {
    return fail("not_running", 409, `run ${run.state.runId} is ${run.state.status}; only finished runs are removed`);
  }
  await run.wipe();
  return ok(undefined);
}
