// What a person does to a run through the API: approve or reject a step waiting for approval,
// retry steps of a finished run, set a step's status by hand. Each checks what it can before the
// event (a 404 naming the step, a 400 naming the field) and turns the machine's refusal into the
// contract's error body.
import { parseInstanceName } from "../../dag/parallel";
import { fail, type Outcome, ok } from "../../errors";
import type { FinalStepStatus } from "../../status";
import type { RunCore } from "./run-core";

export interface RetryOptions {
  stepName?: string;
  dependents?: boolean;
  failedOnly?: boolean;
}

export async function approve(
  run: RunCore,
  stepName: string,
  approved: boolean,
  reason?: string,
): Promise<Outcome<{ status: string }>> {
  if (!run.state) return fail("not_found", 404, "run not found");
  if (!run.state.steps[stepName]) return fail("not_found", 404, `step "${stepName}" not found in this run`);
  const { reply } = await run.fire({ type: "approve", step: stepName, approved, reason });
  if (reply.kind !== "approval" || !reply.ok) {
    const status = reply.kind === "approval" ? reply.status : "unknown";
    return fail("bad_request", 400, `step "${stepName}" is not waiting for approval (it is ${status})`, {
      field: "stepName",
      status,
    });
  }
  return ok({ status: reply.status });
}

export async function retry(run: RunCore, opts: RetryOptions): Promise<Outcome<string[]>> {
  if (!run.state || !run.init) return fail("not_found", 404, "run not found");
  const ctx = run.machine;
  const own = ctx.dag.steps.map((s) => s.name);
  let names = own;
  if (opts.stepName !== undefined) {
    if (!own.includes(opts.stepName)) {
      // An instance a fan-out step added at run time runs again with its step.
      const fanout = run.state.steps[opts.stepName] ? parseInstanceName(opts.stepName)?.parent : undefined;
      if (fanout && own.includes(fanout)) {
        return fail(
          "bad_request",
          400,
          `step "${opts.stepName}" is an instance of the fan-out step "${fanout}": retry "${fanout}", which runs every instance again`,
          { field: "stepName" },
        );
      }
      return fail("not_found", 404, `step "${opts.stepName}" not found in this run`, { field: "stepName" });
    }
    const set = new Set([opts.stepName]);
    for (const name of set) if (opts.dependents) for (const n of ctx.dependents.get(name) ?? []) set.add(n);
    names = own.filter((n) => set.has(n));
  } else if (opts.failedOnly) {
    const failed = new Set(["failed", "aborted", "rejected"]);
    names = own.filter((n) => failed.has(run.state?.steps[n]?.status ?? ""));
    if (!names.length) {
      return fail("bad_request", 400, "the run has no failed, aborted or rejected step to retry", {
        field: "failedOnly",
      });
    }
  }
  const all = opts.stepName === undefined && !opts.failedOnly;
  const { reply } = await run.fire({ type: "retry", steps: names, all });
  if (reply.kind !== "manual" || !reply.ok) {
    const why = reply.kind === "manual" ? reply.reason : "unexpected reply";
    return fail("not_running", 400, `only a finished run can be retried: ${why}`);
  }
  return ok(names);
}

export async function setStepStatus(run: RunCore, stepName: string, status: FinalStepStatus): Promise<Outcome<void>> {
  if (!run.state) return fail("not_found", 404, "run not found");
  if (!run.state.steps[stepName]) return fail("not_found", 404, `step "${stepName}" not found in this run`);
  const { reply } = await run.fire({ type: "setStatus", step: stepName, status });
  if (reply.kind !== "manual" || !reply.ok) {
    const why = reply.kind === "manual" ? reply.reason : "unexpected reply";
    return fail("bad_request", 400, `cannot set the status of step "${stepName}": ${why}`);
  }
  return ok(undefined);
}
