// Readers for the control keys of a DAG file: preconditions, repeatPolicy, backoff, executor,
// signalOnStop. PURE. Each records problems with their line and field instead of throwing.
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { BOUND, type Bound, MAX_REPEAT_LIMIT } from "../limits";
import type { Issues } from "./issues";
import { checkKeys, type KeySet } from "./keys";
import type { Condition, RepeatPolicy } from "./types";
import { present, scalarText } from "./yaml-nodes";

const CONDITION_KEYS: KeySet = {
  supported: new Set(["condition", "command", "expected", "negate"]),
  later: new Set(),
};

export const REPEAT_KEYS: KeySet = {
  supported: new Set([
    "repeat",
    "condition",
    "expected",
    "exitCode",
    "intervalSec",
    "backoff",
    "maxIntervalSec",
    "limit",
  ]),
  later: new Set(),
};

/** The executors a step may name: the shell runs the command in both cases. */
const SHELL_EXECUTORS = new Set(["", "shell", "command"]);

/** Signals a step may be stopped with (the names Node's process.kill accepts on Linux). */
const SIGNALS = new Set([
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGKILL",
  "SIGUSR1",
  "SIGUSR2",
  "SIGABRT",
  "SIGALRM",
  "SIGPIPE",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGWINCH",
]);

/** `precondition`/`preconditions`: a command string, or a list of commands and condition maps. */
export function readConditions(node: Node, field: string, issues: Issues): Condition[] {
  if (isSeq(node)) {
    return node.items.flatMap((item, i) => {
      const c = readCondition(item as Node, `${field}[${i}]`, issues);
      return c ? [c] : [];
    });
  }
  const c = readCondition(node, field, issues);
  return c ? [c] : [];
}

function readCondition(node: Node, field: string, issues: Issues): Condition | undefined {
  if (isScalar(node)) {
    const text = scalarText(node);
    if (text === undefined || text.trim() === "") {
      issues.at(node, field, `${field} must be a command or a mapping (condition, expected, negate)`);
      return undefined;
    }
    return { condition: text };
  }
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be a command or a mapping (condition, expected, negate)`);
    return undefined;
  }
  checkKeys(node, CONDITION_KEYS, field, issues);
  const condNode = present(node, "condition") ?? present(node, "command");
  const condition = condNode && issues.string(condNode, `${field}.condition`);
  if (condition === undefined || condition.trim() === "") {
    if (!condNode) issues.at(node, `${field}.condition`, `${field}.condition is required`);
    return undefined;
  }
  const c: Condition = { condition };
  const expectedNode = present(node, "expected");
  const expected = expectedNode && issues.string(expectedNode, `${field}.expected`);
  if (expected !== undefined) {
    c.expected = expected;
    checkPattern(expectedNode as Node, `${field}.expected`, expected, issues);
  }
  const negateNode = present(node, "negate");
  if (negateNode && issues.bool(negateNode, `${field}.negate`)) c.negate = true;
  return c;
}

/** A `re:` pattern must compile here, not fail later on a runner. */
export function checkPattern(node: Node, field: string, pattern: string, issues: Issues): void {
  if (!pattern.startsWith("re:")) return;
  try {
    new RegExp(pattern.slice(3));
  } catch (err) {
    issues.at(node, field, `${field}: invalid regular expression: ${(err as Error).message}`);
  }
}

/** `backoff: true` (x2), or a multiplier > 1. Undefined when absent or false. */
export function readBackoff(map: YAMLMap, field: string, issues: Issues): number | undefined {
  const node = present(map, "backoff");
  if (!node) return undefined;
  const v = isScalar(node) ? node.value : undefined;
  if (v === true) return 2;
  if (v === false) return undefined;
  if (typeof v === "number" && Number.isFinite(v) && v > 1) return v;
  issues.at(node, `${field}.backoff`, `${field}.backoff must be true, false or a number > 1`);
  return undefined;
}

/** One exit code or a list of them. */
export function readExitCodes(node: Node, field: string, issues: Issues): number[] {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  return items.flatMap((n, i) => {
    const v = issues.int(n, isSeq(node) ? `${field}[${i}]` : field, 0);
    return v === undefined ? [] : [v];
  });
}

export function readRepeat(node: Node, field: string, issues: Issues): RepeatPolicy | undefined {
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be a mapping (repeat, condition, expected, exitCode, intervalSec, limit)`);
    return undefined;
  }
  checkKeys(node, REPEAT_KEYS, field, issues);
  const get = (k: string) => present(node, k);
  const int = (k: string, min: number, max: Bound) => {
    const n = get(k);
    return n && issues.int(n, `${field}.${k}`, min, max);
  };
  const condNode = get("condition");
  const condition = condNode && issues.string(condNode, `${field}.condition`);
  const expectedNode = get("expected");
  const expected = expectedNode && issues.string(expectedNode, `${field}.expected`);
  if (expectedNode && expected !== undefined) checkPattern(expectedNode, `${field}.expected`, expected, issues);
  if (expected !== undefined && condition === undefined) {
    issues.at(expectedNode, `${field}.expected`, `${field}.expected needs a condition`);
  }
  const exitNode = get("exitCode");
  const exitCode = exitNode ? readExitCodes(exitNode, `${field}.exitCode`, issues) : [];

  const repeatNode = get("repeat");
  const repeat = repeatNode && isScalar(repeatNode) ? repeatNode.value : undefined;
  let mode: RepeatPolicy["mode"];
  if (repeat === "while" || repeat === "until") mode = repeat;
  else if (repeat === true || repeat === undefined) {
    // Dagu's older forms: `repeat: true`, or a condition alone, repeat while it holds.
    mode = "while";
    if (repeat === undefined && condition === undefined && !exitCode.length) {
      issues.at(node, `${field}.repeat`, `${field} needs repeat (while, until or true), a condition or an exitCode`);
    }
  } else if (repeat === false) return undefined;
  else {
    issues.at(repeatNode, `${field}.repeat`, `${field}.repeat must be "while", "until" or true`);
    return undefined;
  }
  if (mode === "until" && condition === undefined && !exitCode.length) {
    issues.at(node, field, `repeat "until" needs a condition or an exitCode to wait for`);
  }
  const policy: RepeatPolicy = { mode, intervalSec: int("intervalSec", 0, BOUND.serverTimer) ?? 0 };
  if (condition !== undefined) {
    policy.condition = expected === undefined ? { condition } : { condition, expected };
  }
  if (exitCode.length) policy.exitCode = exitCode;
  const backoff = readBackoff(node, field, issues);
  if (backoff !== undefined) policy.backoff = backoff;
  const maxInterval = int("maxIntervalSec", 1, BOUND.serverTimer);
  if (maxInterval !== undefined) policy.maxIntervalSec = maxInterval;
  const limit = int("limit", 1, BOUND.repeatLimit);
  if (limit !== undefined) policy.limit = limit;
  // Without end and without a pause, a step would run again at once for ever.
  if (get("limit") === undefined && !policy.intervalSec) {
    issues.at(
      node,
      field,
      `${field} has neither limit nor intervalSec: give a limit (at most ${MAX_REPEAT_LIMIT}) or an intervalSec of at least 1`,
    );
  }
  return policy;
}

/** `executor: shell` (or `command`, or `{type: shell}`) is the default; any other is refused by name. */
export function checkExecutor(node: Node, field: string, issues: Issues): void {
  let type: string | undefined;
  let at: Node = node;
  if (isMap(node)) {
    const t = present(node, "type");
    if (t) at = t;
    type = t && issues.string(t, `${field}.type`);
    if (!t) issues.at(node, `${field}.type`, `${field}.type is required`);
  } else type = issues.string(node, field);
  if (type === undefined || SHELL_EXECUTORS.has(type)) return;
  issues.at(
    at,
    isMap(node) ? `${field}.type` : field,
    `executor "${type}" is not supported: dagflare runs steps with the shell executor only`,
  );
}

export function readSignal(node: Node, field: string, issues: Issues): string | undefined {
  const text = issues.string(node, field);
  if (text === undefined) return undefined;
  const name = text.toUpperCase().startsWith("SIG") ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
  if (!SIGNALS.has(name)) {
    issues.at(node, field, `${field}: unknown signal "${text}" (use e.g. SIGINT, SIGTERM, SIGKILL)`);
    return undefined;
  }
  return name;
}

const APPROVAL_KEYS: KeySet = { supported: new Set(["prompt"]), later: new Set() };

/** `approval: true` or `approval: {prompt: "..."}` (dagflare's addition); false: none. */
export function readApproval(node: Node, field: string, issues: Issues): { prompt?: string } | undefined {
  if (isScalar(node) && typeof node.value === "boolean") return node.value ? {} : undefined;
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be true, false or a mapping with a prompt`);
    return undefined;
  }
  checkKeys(node, APPROVAL_KEYS, field, issues);
  const p = present(node, "prompt");
  const prompt = p && issues.string(p, `${field}.prompt`);
  return prompt === undefined ? {} : { prompt };
}
