// The keys that govern a DAG's runs over time rather than one run: `schedule`,
// `skipIfSuccessful`, `maxActiveRuns`, `queue`, `histRetentionDays`, and dagflare's `context` and
// `parameterSet` (what a start that names none uses, the schedule's included). PURE.
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { INPUT_NAME } from "../inputs/values";
import { BOUND } from "../limits";
import { parseCron } from "./cron";
import type { Issues } from "./issues";
import type { RunPolicy } from "./types";
import { child, isAbsent, keyOf } from "./yaml-nodes";

export const RUN_POLICY_KEYS = [
  "schedule",
  "skipIfSuccessful",
  "maxActiveRuns",
  "queue",
  "histRetentionDays",
  "context",
  "parameterSet",
];

/** A queue name, as DAG names are written. */
export const QUEUE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function readRunPolicy(root: YAMLMap, issues: Issues): RunPolicy {
  const get = (key: string): Node | undefined => {
    const n = child(root, key);
    return isAbsent(n) ? undefined : n;
  };
  const policy: RunPolicy = {};
  const scheduleNode = get("schedule");
  if (scheduleNode) {
    const schedule = readSchedule(scheduleNode, issues);
    if (schedule.length) policy.schedule = schedule;
  }
  const skipNode = get("skipIfSuccessful");
  const skip = skipNode && issues.bool(skipNode, "skipIfSuccessful");
  if (skip) policy.skipIfSuccessful = true;
  const maxNode = get("maxActiveRuns");
  if (maxNode) {
    // Dagu: -1 disables queueing; 0 is read the same way here.
    const n = issues.int(maxNode, "maxActiveRuns", -1, BOUND.count);
    if (n !== undefined && n > 0) policy.maxActiveRuns = n;
  }
  const queueNode = get("queue");
  const queue = queueNode && issues.string(queueNode, "queue");
  if (queue !== undefined && queue !== "") {
    if (QUEUE_NAME.test(queue)) policy.queue = queue;
    else issues.at(queueNode, "queue", `invalid queue name "${queue}": use letters, digits, _ and - (at most 64)`);
  }
  for (const key of ["context", "parameterSet"] as const) {
    const node = get(key);
    const name = node && issues.string(node, key);
    if (name === undefined || name === "") continue;
    if (INPUT_NAME.test(name)) policy[key] = name;
    else issues.at(node, key, `invalid ${key} name "${name}": letters, digits, _ . - (at most 64)`);
  }
  const retentionNode = get("histRetentionDays");
  const days = retentionNode && issues.int(retentionNode, "histRetentionDays", 0, BOUND.retentionDays);
  if (days !== undefined) policy.histRetentionDays = days;
  return policy;
}

/** A string, a list of strings, or `{start: ...}`; each a five-field cron expression. */
function readSchedule(node: Node, issues: Issues): string[] {
  let items: Array<{ node: Node; field: string }> = [];
  const listOf = (n: Node, field: string) =>
    isSeq(n) ? n.items.map((item, i) => ({ node: item as Node, field: `${field}[${i}]` })) : [{ node: n, field }];
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyOf(pair);
      if (key === "start") items = listOf(pair.value as Node, "schedule.start");
      else if (key === "stop" || key === "restart") {
        issues.at(pair.key as Node, `schedule.${key}`, `"schedule.${key}" is not supported yet`);
      } else issues.at(pair.key as Node, `schedule.${key}`, `unknown key "${key}"`);
    }
  } else items = listOf(node, "schedule");
  const out: string[] = [];
  for (const { node: n, field } of items) {
    if (!isScalar(n) || typeof n.value !== "string") {
      issues.at(n, field, `${field} must be a cron expression string`);
      continue;
    }
    const parsed = parseCron(n.value);
    if (parsed.ok) out.push(parsed.spec.expression);
    else issues.at(n, field, `invalid cron expression ${parsed.message}`);
  }
  return out;
}
