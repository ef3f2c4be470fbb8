// Reads a workerSelector mapping (src/shared/selector.ts says what it means). PURE.
import { isMap, type Node } from "yaml";
import { LABEL_KEY, POOL_LABEL, POOL_NAME, type Selector } from "../shared/selector";
import type { Issues } from "./issues";
import { keyOf, scalarText } from "./yaml-nodes";

/** `{key: value, ...}`; values are taken as written (`gpu: true` is "true"). */
export function readSelector(node: Node, field: string, issues: Issues): Selector {
  const out: Selector = {};
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be a mapping of labels (e.g. {gpu: "true"})`);
    return out;
  }
  for (const pair of node.items) {
    const key = keyOf(pair);
    const value = scalarText(pair.value);
    if (!LABEL_KEY.test(key)) issues.at(pair.key as Node, `${field}.${key}`, `invalid label "${key}"`);
    else if (value === undefined) issues.at(pair.value as Node, `${field}.${key}`, `${key} must have a scalar value`);
    else if (key === POOL_LABEL && !POOL_NAME.test(value)) {
      issues.at(pair.value as Node, `${field}.${key}`, `pool "${value}" must be 1-64 letters, digits, _ or -`);
    } else out[key] = value;
  }
  return out;
}
