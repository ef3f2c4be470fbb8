// `parallel` on a step (Dagu's fan-out): the step runs once per item, each run an instance with
// ITEM in its env, named `<step>[<n>]` (from 1). The step stays ONE step of the graph, as in
// Dagu: its dependents depend on it by name, and run details show it as one node with its
// instances under it. The run expands it when it is ready (src/run/engine/fanout.ts): items
// listed in the file are known from here, items given as a variable (`parallel: ${LIST}`) are
// read then. PURE.
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { BOUND } from "../limits";
import type { Issues } from "./issues";
import { checkKeys, type KeySet } from "./keys";
import type { StepDef } from "./types";
import { child, isAbsent, scalarText } from "./yaml-nodes";

/** Dagu's default. */
export const DEFAULT_MAX_CONCURRENT = 10;
const PARALLEL_KEYS: KeySet = { supported: new Set(["items", "maxConcurrent"]), later: new Set() };

export interface ParallelDef {
  /** Each item's ITEM value: a scalar's text, an object's JSON text. */
  items: string[];
  maxConcurrent: number;
}

/** Items from a variable: `from` is the reference as written, `${LIST}` or `${LIST.path}`. */
export interface FanoutRead {
  from: string;
  maxConcurrent: number;
}

/** A whole-value reference: `${NAME}`, or a JSON path into it (`${OUT.files}`, `${OUT.a[0].b}`). */
export const ITEMS_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_-]+|\[\d+\])*)\}$/;

/** `$NAME`: a whole variable without braces. */
const BARE_ITEMS_REF = /^\$([A-Za-z_][A-Za-z0-9_]*)$/;

export function readParallel(node: Node, field: string, issues: Issues): ParallelDef | FanoutRead | undefined {
  let itemsNode: Node | undefined = node;
  let maxConcurrent = DEFAULT_MAX_CONCURRENT;
  let itemsField = field;
  if (isMap(node)) {
    checkKeys(node, PARALLEL_KEYS, field, issues);
    const items = child(node, "items");
    itemsNode = isAbsent(items) ? undefined : items;
    itemsField = `${field}.items`;
    if (!itemsNode) issues.at(node, itemsField, "parallel needs items");
    const max = child(node, "maxConcurrent");
    if (!isAbsent(max))
      maxConcurrent = issues.int(max, `${field}.maxConcurrent`, 1, BOUND.count) ?? DEFAULT_MAX_CONCURRENT;
  }
  if (!itemsNode) return undefined;
  if (isScalar(itemsNode)) {
    const text = typeof itemsNode.value === "string" ? itemsNode.value.trim() : undefined;
    if (text !== undefined && ITEMS_REF.test(text)) return { from: text, maxConcurrent };
    // Dagu also takes `$ITEMS` without braces.
    const bare = text === undefined ? null : BARE_ITEMS_REF.exec(text);
    if (bare) return { from: `\${${bare[1]}}`, maxConcurrent };
    issues.at(
      itemsNode,
      itemsField,
      `${itemsField} must be a list of items, or one variable reference such as \${LIST}`,
    );
    return undefined;
  }
  if (!isSeq(itemsNode)) {
    issues.at(itemsNode, itemsField, `${itemsField} must be a list of items`);
    return undefined;
  }
  if (itemsNode.items.length === 0) {
    issues.at(itemsNode, itemsField, "parallel needs at least one item");
    return undefined;
  }
  const items = itemsNode.items.map((item, i) => {
    const text = isScalar(item) && item.value !== null ? scalarText(item) : undefined;
    if (text !== undefined) return text;
    if (isMap(item)) return JSON.stringify((item as { toJSON(): unknown }).toJSON());
    issues.at(item as Node, `${itemsField}[${i}]`, "a parallel item must be a string, a number or a mapping");
    return "";
  });
  return { items, maxConcurrent };
}

/** The name of a parallel step's n-th instance (from 1). */
export const instanceName = (step: string, n: number): string => `${step}[${n}]`;

/** The parallel step an instance name belongs to, and its number. */
export function parseInstanceName(name: string): { parent: string; n: number } | undefined {
  const m = /^(.*)\[(\d+)\]$/.exec(name);
  return m ? { parent: m[1] as string, n: Number(m[2]) } : undefined;
}

/**
 * The n-th instance of parallel step `step`, listed in the file or added at run time: ITEM first
 * in its env, at most maxConcurrent instances of the step at once.
 */
export function instanceStep(step: StepDef, n: number, item: string, maxConcurrent: number): StepDef {
  return {
    ...step,
    name: instanceName(step.name, n),
    env: [["ITEM", item], ...step.env],
    parallelGroup: { name: step.name, maxConcurrent },
  };
}

/** The items a parallel step lists in its file; undefined when they come from a variable or it has none. */
export function listedItems(step: StepDef): string[] | undefined {
  const items = step.fanout?.items;
  return Array.isArray(items) ? items : undefined;
}

/** An instance's ITEM: the first entry of its env (instanceStep puts it there). */
export function instanceItem(step: StepDef): string | undefined {
  const first = step.parallelGroup ? step.env[0] : undefined;
  return first?.[0] === "ITEM" ? first[1] : undefined;
}
