// The run-finish hook of mail: when a run with Dagu's `mailOn` finishes, its mail is handed to
// the run's MailObject, which sends it. Called from the RunObject's outbox with the run-level
// summary (src/run/object/outbox.ts), and retried with it: the hand-off is idempotent and
// touches only storage, so it never waits on an SMTP server.
import type { DagDef } from "../dag/types";
import type { Env } from "../env";
import type { RunState } from "../run/engine";
import { mailStub } from "../stubs";
import type { MailKind } from "./mail-object";
import type { RunReport } from "./message";

/**
 * Which mail a finished run sends: `failed` the error mail (mailOn.failure), `succeeded` and
 * `partially_succeeded` the info mail (mailOn.success); an aborted or rejected run none, as in
 * Dagu, which mails on failure and success only.
 */
export function mailKindOf(dag: DagDef, status: RunState["status"]): MailKind | undefined {
  if (status === "failed" && dag.mail?.on.failure) return "errorMail";
  if ((status === "succeeded" || status === "partially_succeeded") && dag.mail?.on.success) return "infoMail";
  return undefined;
}

export async function mailAfterFinish(env: Env, dag: DagDef, state: RunState): Promise<void> {
  const kind = mailKindOf(dag, state.status);
  if (!kind || !dag.mail || state.finishedAt === undefined) return;
  const report: RunReport = {
    dagName: state.dagName,
    runId: state.runId,
    status: state.status,
    finishedAt: state.finishedAt,
    ...(state.startedAt !== undefined && { startedAt: state.startedAt }),
    steps: Object.values(state.steps).map((s) => ({
      name: s.name,
      status: s.status,
      ...(s.exitCode !== undefined && { exitCode: s.exitCode }),
      ...(s.error && { error: s.error }),
    })),
  };
  await mailStub(env, state.runId).enqueue({ kind, report, mail: dag.mail });
}
