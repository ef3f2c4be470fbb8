// Conditions a step's lease carries (preconditions, the repeat condition), evaluated here because
// they may need the shell: `test -f x`, `$(date +%u)`, backticks. Each runs with the step's own
// shell, env and working directory.
import { matchesExpected } from "../../src/shared/match.ts";
import type { ExecCondition, ExecSpec } from "../../src/shared/protocol.ts";
import { VAR_REF } from "../../src/shared/vars.ts";
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
  const r = await runShell(exec, c.expected === undefined ? c.condition : hereDoc(c.condition));
  const not = c.negate ? "not " : "";
  if (r.error !== undefined) return { met: false, detail: `"${c.condition}" could not run: ${r.error}` };
  let met: boolean;
  let detail: string;
  if (c.expected === undefined) {
    met = r.exitCode === 0;
    detail = `"${c.condition}" exited with ${r.exitCode ?? r.signal}${c.negate ? " (negated)" : ""}`;
  } else {
    met = r.exitCode === 0 && safeMatch(r.stdout, c.expected);
    detail = `"${c.condition}" gave "${r.stdout}", expected ${not}"${c.expected}"`;
  }
  return { met: c.negate ? !met : met, detail };
}

/**
 * An env value written with backticks, as Dagu evaluates it: each `command` is run with the
 * step's shell (exit 0 required; its output, trailing newlines cut, replaces it), and `${NAME}`
 * and `$NAME` outside the backticks take values from the step's env (unknown names stay). What
 * a substitution or a variable yields is never scanned again.
 */
export async function expandWithShell(exec: ExecSpec, text: string): Promise<{ value: string } | { error: string }> {
  const parts = text.split("`");
  if (parts.length % 2 === 0) return { error: "unterminated backtick" };
  let value = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    if (i % 2 === 0) {
      value += part.replace(VAR_REF, (whole, braced, bare) => exec.env[braced ?? bare] ?? whole);
      continue;
    }
    const r = await runShell(exec, part);
    if (r.error !== undefined) return { error: r.error };
    if (r.exitCode !== 0) {
      // What the command said on stderr is what tells the user why.
      const said = r.stderr.trim() ? `: ${r.stderr.trim()}` : "";
      return { error: `\`${part}\` exited with ${r.exitCode ?? r.signal}${said}` };
    }
    value += r.stdout.replace(/\n+$/, "");
  }
  return { value };
}

function hereDoc(text: string): string {
  return `cat <<${HEREDOC_END}\n${text}\n${HEREDOC_END}\n`;
}

/** Of a command's stderr, the end is kept: where a failing command says why. */
const STDERR_TAIL_CHARS = 2_000;

/**
 * Runs `command` with the step's shell, env and dir; stdout without the here-document's newline,
 * and the end of stderr.
 */
async function runShell(exec: ExecSpec, command: string) {
  let stdout = "";
  let stderr = "";
  const proc: StepProcess = startProcess(
    { shell: exec.shell, args: exec.args, env: exec.env, dir: exec.dir, command, maxOutputBytes: 1 },
    {
      onOutput: (stream, text) => {
        if (stream === "stdout" && stdout.length < 1_048_576) stdout += text;
        if (stream === "stderr") stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
      },
      killGraceMs: 1_000,
    },
  );
  const timer = setTimeout(() => proc.stop(), CONDITION_TIMEOUT_MS);
  const r = await proc.done;
  clearTimeout(timer);
  return { ...r, stdout: stdout.replace(/\n$/, ""), stderr };
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
