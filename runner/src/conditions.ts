// Conditions a step's lease carries (preconditions, the repeat condition), evaluated here because
// they may need the shell: `test -f x`, `$(date +%u)`, backticks. Each runs with the step's own
// shell, env and working directory.
import { matchesExpected } from "../../src/dag/match.ts";
import type { ExecCondition, ExecSpec } from "../../src/protocol.ts";
import { type StepProcess, startProcess } from "./process-group.ts";

/** A condition longer than this is stopped and counts as not met. */
const CONDITION_TIMEOUT_MS = 60_000;
const HEREDOC_END = "__DAGFLARE_CONDITION_END__";

export interface ConditionResult {
  met: boolean;
  /** What was found, for the step's log and the skip reason. */
  detail: string;
}

/**
 * With `expected`, the condition is expanded as the shell expands a here-document (variables,
 * $(...), backticks; no word splitting) and the text compared; without, it is run as a command
 * and holds when it exits 0. `negate` turns the answer round.
 */
export async function evaluateCondition(exec: ExecSpec, c: ExecCondition): Promise<ConditionResult> {
  const command = c.expected === undefined ? c.condition : `cat <<${HEREDOC_END}\n${c.condition}\n${HEREDOC_END}\n`;
  let stdout = "";
  const proc: StepProcess = startProcess(
    { shell: exec.shell, args: exec.args, env: exec.env, dir: exec.dir, command, maxOutputBytes: 1 },
    {
      onOutput: (stream, text) => {
        if (stream === "stdout" && stdout.length < 1_048_576) stdout += text;
      },
      killGraceMs: 1_000,
    },
  );
  const timer = setTimeout(() => proc.stop(), CONDITION_TIMEOUT_MS);
  const r = await proc.done;
  clearTimeout(timer);
  const not = c.negate ? "not " : "";
  if (r.error !== undefined) return { met: false, detail: `"${c.condition}" could not run: ${r.error}` };
  let met: boolean;
  let detail: string;
  if (c.expected === undefined) {
    met = r.exitCode === 0;
    detail = `"${c.condition}" exited with ${r.exitCode ?? r.signal}${c.negate ? " (negated)" : ""}`;
  } else {
    const value = stdout.replace(/\n$/, "");
    met = r.exitCode === 0 && safeMatch(value, c.expected);
    detail = `"${c.condition}" gave "${value}", expected ${not}"${c.expected}"`;
  }
  return { met: c.negate ? !met : met, detail };
}

function safeMatch(text: string, expected: string): boolean {
  try {
    return matchesExpected(text, expected);
  } catch {
    return false;
  }
}

/** Looks for any of `patterns` in each line of the output, as it streams. */
export class OutputMatcher {
  matched = false;
  private partial: Record<string, string> = {};
  constructor(private readonly patterns: string[]) {}

  push(stream: string, text: string): void {
    if (this.matched) return;
    const lines = ((this.partial[stream] ?? "") + text).split("\n");
    this.partial[stream] = (lines.pop() ?? "").slice(-65_536);
    for (const line of lines) this.test(line);
  }

  end(): void {
    for (const rest of Object.values(this.partial)) if (rest) this.test(rest);
    this.partial = {};
  }

  private test(line: string): void {
    if (this.matched) return;
    // Plain text is looked for within the line; `re:` patterns are searched for.
    this.matched = this.patterns.some((p) => (p.startsWith("re:") ? safeMatch(line, p) : line.includes(p)));
  }
}
