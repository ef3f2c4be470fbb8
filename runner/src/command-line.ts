// Which program runs a step, and with which argv. The shell is the step's, else the DAG's, else
// this host's `$SHELL`, else `sh` (Dagu's order); a script whose `#!` line names an interpreter
// (the server says which, in `interpreter`) runs with it instead.
import type { ExecSpec } from "../../src/shared/protocol.ts";

/** The shell a step runs with when neither it nor its DAG names one: the host's `$SHELL`, else sh. */
export function defaultShell(env: Record<string, string | undefined> = process.env): string {
  return env.SHELL?.trim() || "sh";
}

/** The step's shell argv, the host's default filled in. */
export function shellOf(exec: Pick<ExecSpec, "shell">): string[] {
  return exec.shell.length > 0 ? exec.shell : [defaultShell()];
}

/** The argv that runs `exec`; `scriptPath` is where its script was written, if it has one. */
export function commandLine(exec: ExecSpec, scriptPath?: string): { file: string; args: string[] } {
  const [shell = "sh", ...shellArgs] = shellOf(exec);
  if (scriptPath === undefined) {
    // "dagflare" is $0, so the step's args are $1, $2, ...
    return { file: shell, args: [...shellArgs, "-c", exec.command ?? "", "dagflare", ...exec.args] };
  }
  if (exec.command?.trim()) {
    // `command` names the script's interpreter (`python3 -u`): the shell splits it into words.
    return { file: shell, args: [...shellArgs, "-c", `${exec.command} "$@"`, "dagflare", scriptPath, ...exec.args] };
  }
  const [program = shell, ...programArgs] = exec.interpreter ?? [shell, ...shellArgs];
  return { file: program, args: [...programArgs, scriptPath, ...exec.args] };
}
