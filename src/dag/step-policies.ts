// A step's retryPolicy and continueOn: what follows when an attempt of it does not succeed.
// PURE.
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { BOUND } from "../limits";
import { checkPattern, readBackoff, readExitCodes } from "./control";
import type { Issues } from "./issues";
import { CONTINUE_ON_KEYS, checkKeys, RETRY_KEYS } from "./keys";
import type { ContinueOn, RetryPolicy } from "./types";
import { readStringList } from "./values";
import { present } from "./yaml-nodes";

export function readRetry(node: Node, field: string, issues: Issues): RetryPolicy {
  const policy: RetryPolicy = { limit: 0, intervalSec: 0 };
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be a mapping (limit, intervalSec)`);
    return policy;
  }
  checkKeys(node, RETRY_KEYS, field, issues);
  const limit = present(node, "limit");
  const interval = present(node, "intervalSec");
  if (limit !== undefined) policy.limit = issues.int(limit, `${field}.limit`, 0, BOUND.retryLimit) ?? 0;
  if (interval !== undefined)
    policy.intervalSec = issues.int(interval, `${field}.intervalSec`, 0, BOUND.serverTimer) ?? 0;
  const backoff = readBackoff(node, field, issues);
  if (backoff !== undefined) policy.backoff = backoff;
  const maxInterval = present(node, "maxIntervalSec");
  const max = maxInterval && issues.int(maxInterval, `${field}.maxIntervalSec`, 1, BOUND.serverTimer);
  if (max !== undefined) policy.maxIntervalSec = max;
  const exitCode = present(node, "exitCode");
  if (exitCode !== undefined) policy.exitCode = readExitCodes(exitCode, `${field}.exitCode`, issues);
  return policy;
}

export function readContinueOn(node: Node, field: string, issues: Issues): ContinueOn {
  const c: ContinueOn = { failure: false, skipped: false, exitCode: [] };
  if (isScalar(node) && typeof node.value === "string") {
    if (node.value === "failed" || node.value === "failure") c.failure = true;
    else if (node.value === "skipped") c.skipped = true;
    else issues.at(node, field, `${field} must be "failed", "skipped" or a mapping, not "${node.value}"`);
    return c;
  }
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be "failed", "skipped" or a mapping (failure, skipped, exitCode)`);
    return c;
  }
  checkKeys(node, CONTINUE_ON_KEYS, field, issues);
  const failure = present(node, "failure");
  const skipped = present(node, "skipped");
  const exitCode = present(node, "exitCode");
  if (failure !== undefined) c.failure = issues.bool(failure, `${field}.failure`) ?? false;
  if (skipped !== undefined) c.skipped = issues.bool(skipped, `${field}.skipped`) ?? false;
  if (exitCode !== undefined) c.exitCode = readExitCodes(exitCode, `${field}.exitCode`, issues);
  const output = present(node, "output");
  if (output !== undefined) {
    c.output = readStringList(output, `${field}.output`, issues, false);
    const nodes = isSeq(output) ? (output.items as Node[]) : [output];
    c.output.forEach((p, i) => {
      checkPattern(nodes[i] ?? output, `${field}.output`, p, issues);
    });
  }
  const markSuccess = present(node, "markSuccess");
  if (markSuccess !== undefined && issues.bool(markSuccess, `${field}.markSuccess`)) c.markSuccess = true;
  return c;
}
