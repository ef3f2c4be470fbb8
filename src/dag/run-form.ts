// Current Dagu's `run:` form of a shell step. PURE. A one-line string is a command; a string
// of several lines is a script; a list is commands run one after the other, stopping at the
// first that fails. (In Dagu's older files `run:` named a DAG to call: step.ts keeps that
// reading for a `run:` written with `params`, which only a call has.)
import { isMap, isScalar, isSeq, type Node } from "yaml";
import type { Issues } from "./issues";
import { keyOf, scalarText } from "./yaml-nodes";

export type RunForm = { command: string } | { script: string };

/** Reads `run` into the command or the script it stands for; undefined after an error. */
export function readRun(node: Node, field: string, issues: Issues): RunForm | undefined {
  if (isSeq(node)) return readRunList(node.items as Node[], field, issues);
  const text = issues.string(node, field);
  if (text === undefined) return undefined;
  if (text.trim() === "") {
    issues.at(node, field, `${field} must not be empty`);
    return undefined;
  }
  return /[\r\n]/.test(text) ? { script: text } : { command: text };
}

/**
 * Each item is one command line: a string, a number or boolean as written, or a one-key
 * mapping read back as `key: value` (YAML takes `echo a: b` for a mapping). The lines become a
 * script under `set -e`, so the first command that fails ends the step with its exit code.
 */
function readRunList(items: Node[], field: string, issues: Issues): RunForm | undefined {
  const lines: string[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const at = `${field}[${i}]`;
    const line = runLine(item);
    if (line === undefined) {
      issues.at(item, at, `${at} must be a command: a string, or a mapping of one key to a scalar`);
      ok = false;
    } else if (/[\r\n]/.test(line)) {
      issues.at(item, at, `${at} must be one line (a script of several lines is a string run)`);
      ok = false;
    } else if (line.trim() !== "") lines.push(line);
  });
  if (!ok) return undefined;
  if (lines.length === 0) {
    issues.at(items[0] ?? null, field, `${field} needs at least one command`);
    return undefined;
  }
  return { script: ["set -e", ...lines, ""].join("\n") };
}

function runLine(item: Node): string | undefined {
  if (isScalar(item)) return item.value === null ? "" : scalarText(item);
  if (isMap(item) && item.items.length === 1) {
    const pair = item.items[0];
    const value = pair?.value;
    const text = isScalar(value) && value.value !== null ? scalarText(value) : undefined;
    if (pair && text !== undefined) return `${keyOf(pair)}: ${text}`;
  }
  return undefined;
}
