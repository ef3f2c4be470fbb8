// A run's DAGRunDetails with the hints that are not part of its state: why a queued step waits
// (the dispatchers' fleets) and why a queued run has not started (admission). One function for
// GET /dag-runs/{name}/{dagRunId} and the live socket, so both show the same object.
import type { DagRunRow } from "../db/schema";
import { waitingReasons } from "../dispatch/waiting";
import type { Env } from "../env";
import type { MailStatus } from "../mail/mail-object";
import type { RunSnapshot } from "../run/object/rpc";
import { runSnapshot } from "../run/start-run";
import { isTerminalRun } from "../status";
import { admission, mailStub } from "../stubs";
import { presentDetails, presentedDefs } from "./present/run-details";

export type RunDetails = ReturnType<typeof presentDetails> & { waitingFor?: string; notifications?: MailStatus[] };

/**
 * The hints for a snapshot; `present` may take a newer snapshot than the one they were read for.
 * `only`: the hints a presentation with `only` needs (see presentDetails).
 */
export async function detailHints(env: Env, snap: RunSnapshot, only?: ReadonlySet<string>) {
  const defs = only && presentedDefs(snap.dag, snap.state, only);
  const waiting = await waitingReasons(env, snap, Date.now(), defs);
  const why =
    snap.state.status === "queued" ? (await admission(env).why([snap.state.runId]))[snap.state.runId] : undefined;
  // The mail of a finished run with mailOn, each with how its sending went.
  const mail = snap.dag.mail && isTerminalRun(snap.state.status) ? await mailStub(env, snap.state.runId).list() : [];
  return { waiting, waitingFor: why, notifications: mail };
}

export function presentWithHints(
  snap: RunSnapshot,
  hints: Awaited<ReturnType<typeof detailHints>>,
  only?: ReadonlySet<string>,
): RunDetails {
  const details: RunDetails = presentDetails(snap, hints.waiting, only);
  if (hints.notifications.length) details.notifications = hints.notifications;
  // dagflare's addition: why a queued run has not started.
  if (details.statusLabel !== "queued" || hints.waitingFor === undefined) return details;
  return { ...details, waitingFor: hints.waitingFor };
}

export async function runDetailsOf(env: Env, snap: RunSnapshot): Promise<RunDetails> {
  return presentWithHints(snap, await detailHints(env, snap));
}

/** The details of the run an index row names (found with find-run.ts). */
export async function runDetailsOfRow(env: Env, row: DagRunRow): Promise<RunDetails> {
  return runDetailsOf(env, await runSnapshot(env, row.runId, row.dagName));
}
