// A step's process, from its start asked to its exit seen and its output closed: its output
// masked and sent to the log, its files and its captured output; its timeout; and, after it, the
// repeat condition that reads what it left.
import { evaluateCondition, OutputMatcher } from "./conditions.ts";
import { outputFilePaths } from "./host-setup.ts";
import { OutputCapture } from "./output-capture.ts";
import { OutputFiles } from "./output-files.ts";
import { startProcess, workingDirProblem } from "./process-group.ts";
import { describeExit, notRun, type Outcome, succeeded } from "./step-outcome.ts";
import type { StepState } from "./step-state.ts";
import { trace } from "./trace.ts";

export async function runProcess(s: StepState): Promise<Outcome> {
  // Discarded (or the runner stopping) while its env was prepared: it never starts.
  if (s.aborted) return notRun("not started");
  const { lease, opts } = s;
  const exec = {
    ...lease.exec,
    // Which attempt this process is, for a step that wants to tag what it does.
    env: { ...lease.exec.env, DAGFLARE_ATTEMPT: String(lease.attempt), DAGFLARE_LEASE_ID: lease.leaseId },
  };
  // A missing directory is the problem to report, not the files that cannot be opened in it.
  const dirProblem = workingDirProblem(exec.dir);
  const files: OutputFiles | { error: string } = dirProblem
    ? { error: dirProblem }
    : OutputFiles.open(outputFilePaths(exec), s.takeOwnFiles());
  if ("error" in files) {
    s.note(files.error);
    return notRun(files.error);
  }
  const capture = exec.output === undefined ? undefined : new OutputCapture(exec.maxOutputBytes);
  const matcher = exec.outputPatterns?.length ? new OutputMatcher(exec.outputPatterns) : undefined;
  // Whatever leaves the process goes through the mask first: the log, the files, the output.
  const sink = (stream: "stdout" | "stderr") => (text: string) => {
    s.shipper.push(stream, text);
    const failed = files.write(stream, text);
    if (failed) s.note(failed);
    if (stream === "stdout") capture?.append(text);
  };
  const masked = { stdout: s.masker.stream(sink("stdout")), stderr: s.masker.stream(sink("stderr")) };
  trace?.("spawn", { lease: lease.leaseId });
  const proc = startProcess(exec, {
    killGraceMs: exec.cleanUpSec !== undefined ? exec.cleanUpSec * 1000 : opts.killGraceMs,
    stopSignal: exec.signalOnStop as NodeJS.Signals | undefined,
    dirChecked: true,
    onOutput: (stream, text) => {
      matcher?.push(stream, text);
      masked[stream].push(text);
    },
  });
  s.process = proc;
  void proc.started.then((pid) => {
    if (pid === undefined) return;
    trace?.("pid", { lease: lease.leaseId, pid });
    opts.log(`${s.label}: started pid ${pid}`);
  });
  if (s.stopping) proc.stop();
  // Set before the pid is known (the fork helper reports it a moment later): a stop waits for it.
  const timeout = exec.timeoutSec
    ? setTimeout(() => {
        opts.log(`${s.label}: timed out after ${exec.timeoutSec} s; stopping its process group`);
        s.stop("timeout");
      }, exec.timeoutSec * 1000)
    : undefined;
  const result = await proc.done;
  trace?.("closed", { lease: lease.leaseId });
  masked.stdout.end();
  masked.stderr.end();
  // Its output is all in its files now: the chain's next step, run ahead, starts before this
  // step's own bookkeeping (files closed, lines logged, the report). A repeat condition is
  // evaluated first, as the step may run again.
  if (!exec.repeatCondition && succeeded(result)) s.tellSucceeded();
  files.close();
  clearTimeout(timeout);
  s.hasExited = true;
  opts.log(`${s.label}: ${describeExit(result)}`);
  if (capture?.truncated) s.note(`output ${exec.output} cut at ${exec.maxOutputBytes} bytes`);
  matcher?.end();
  const outcome: Outcome = { ...result, output: capture?.value, outputTruncated: capture?.truncated ?? false };
  if (matcher) outcome.outputMatched = matcher.matched;
  if (exec.repeatCondition && !s.stopping && result.error === undefined) {
    // The condition reads the step's own output as this execution left it (Dagu reloads it).
    const env = exec.output !== undefined && outcome.output !== undefined ? { [exec.output]: outcome.output } : {};
    const r = await evaluateCondition({ ...exec, env: { ...exec.env, ...env } }, exec.repeatCondition);
    s.note(`repeat condition ${r.met ? "holds" : "does not hold"}: ${r.detail}`);
    outcome.repeatConditionMet = r.met;
  }
  return outcome;
}
