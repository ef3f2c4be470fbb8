// Small helpers over the `yaml` AST. The readers work on nodes rather than plain values so that
// every problem can name the line it comes from.
// PURE.
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  visit,
  type YAMLMap,
} from "yaml";

/** The text of a map key; a merge key reads as "<<". */
export function keyOf(pair: Pair): string {
  if (!isScalar(pair.key)) return String(pair.key);
  return typeof pair.key.value === "symbol" ? "<<" : String(pair.key.value);
}

export function child(map: YAMLMap, key: string): Node | undefined {
  return map.get(key, true) as Node | undefined;
}

/**
 * A scalar as the string the author wrote: numbers and booleans keep their source text, so
 * `VERSION: 1.10` stays "1.10" and `ID: 007` stays "007" (Dagu's Go decoder would give "1.1"
 * and "7"); null is "". Undefined for anything that is not a scalar.
 */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return node.source ?? String(v);
  return undefined;
}

/** A null scalar (`key:` or `key: ~`) counts as absent, as in Dagu's decoder. */
export function isAbsent(node: Node | undefined): node is undefined {
  return node === undefined || (isScalar(node) && node.value === null);
}

/** A key's value, undefined when the key is absent or null (see isAbsent). */
export function present(map: YAMLMap, key: string): Node | undefined {
  const n = child(map, key);
  return isAbsent(n) ? undefined : n;
}

/**
 * Replaces every alias by the node it names and spreads merge keys (`<<: *base`) into their
 * maps, keys written in the map winning, so the readers see plain trees (Go's YAML decoder does
 * the same before Dagu looks at the file). A shared node keeps the line of its anchor. Returns
 * the problems found on the way (an alias to no anchor, a merge of something not a mapping).
 */
export function resolveRefs(doc: Document.Parsed): RefProblem[] {
  const bad: RefProblem[] = [];
  const walked = new Set<unknown>();
  const targets = aliasTargets(doc);
  const deref = (n: unknown): unknown => {
    if (!isAlias(n)) return n;
    const target = targets.get(n);
    if (!target) bad.push({ node: n, message: `alias *${n.source} names no anchor` });
    return target ?? n;
  };
  const walk = (node: unknown): void => {
    // An anchor may contain its own alias; walking each collection once keeps that finite.
    if ((!isMap(node) && !isSeq(node)) || walked.has(node)) return;
    walked.add(node);
    if (isSeq(node)) {
      node.items = node.items.map(deref);
      for (const item of node.items) walk(item);
      return;
    }
    for (const pair of node.items) {
      pair.key = deref(pair.key);
      pair.value = deref(pair.value);
      walk(pair.value);
    }
    spreadMerges(node, bad);
  };
  walk(doc.contents);
  return bad;
}

/**
 * What each alias names: the last node before it with that anchor, as `Alias.resolve` finds
 * it, but in one pass over the tree while it still is one. (`resolve` walks the whole document
 * for each alias: once earlier aliases are replaced by their nodes, that walk expands them.)
 */
function aliasTargets(doc: Document.Parsed): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return targets;
}

export interface RefProblem {
  node: Node;
  message: string;
}

function spreadMerges(map: YAMLMap, bad: RefProblem[]): void {
  const isMerge = (p: Pair) => isScalar(p.key) && typeof p.key.value === "symbol";
  if (!map.items.some(isMerge)) return;
  const taken = new Set(map.items.filter((p) => !isMerge(p)).map(keyOf));
  const items: Pair[] = [];
  for (const pair of map.items) {
    if (!isMerge(pair)) {
      items.push(pair);
      continue;
    }
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    if (!sources.every(isMap)) {
      bad.push({ node: (pair.value ?? pair.key) as Node, message: "a merge key (<<) must refer to a mapping" });
      continue;
    }
    for (const source of sources) {
      for (const p of source.items) {
        const key = keyOf(p);
        if (taken.has(key)) continue;
        taken.add(key);
        items.push(p);
      }
    }
  }
  map.items = items;
}
