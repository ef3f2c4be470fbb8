// Bounds on what a YAML text may stand for, checked before anything walks it recursively:
// its nesting (the YAML composer and every reader recurse, so a deep enough text would end in
// a stack overflow that depends on the stack left) and its size with aliases expanded (a few
// hundred bytes of nested aliases stand for gigabytes). PURE.
import { type CST, isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import { MAX_SPEC_EXPANDED_BYTES, MAX_YAML_DEPTH, showBytes } from "../limits";

/**
 * The deepest nesting of collections in the parsed tokens, walked without recursion; stops
 * counting once past the limit. Returns the offset where the limit is first passed, if it is.
 */
export function tooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack: Array<{ token: CST.Token | undefined; depth: number }> = tokens.map((token) => ({ token, depth: 0 }));
  while (stack.length > 0) {
    const { token, depth } = stack.pop() as { token: CST.Token | undefined; depth: number };
    if (!token) continue;
    if (token.type === "document") {
      stack.push({ token: token.value, depth });
    } else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth + 1 > MAX_YAML_DEPTH) return token.offset;
      for (const item of token.items) {
        stack.push({ token: item.key ?? undefined, depth: depth + 1 });
        stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

export const DEPTH_MESSAGE = `YAML nested deeper than ${MAX_YAML_DEPTH} levels`;

export interface SizeProblem {
  node: Node;
  message: string;
}

/**
 * Measures the tree once aliases are replaced by their nodes (yaml-nodes.ts resolveRefs): its
 * size as if every shared node were written out, and its depth. A shared node is measured
 * once (memoised), so this costs the size of the text, not of what it stands for. Also finds
 * an alias inside the node it names, which stands for an endless tree.
 */
export function checkExpanded(root: unknown): SizeProblem | undefined {
  const measured = new Map<unknown, { bytes: number; height: number }>();
  const open = new Set<unknown>();
  let problem: SizeProblem | undefined;
  const measure = (node: unknown, depth: number): { bytes: number; height: number } => {
    const known = measured.get(node);
    if (known) return known;
    if (problem) return { bytes: 0, height: 0 };
    if (isPair(node)) {
      const k = measure(node.key, depth);
      const v = measure(node.value, depth);
      return { bytes: k.bytes + v.bytes + 2, height: Math.max(k.height, v.height) };
    }
    if (!isMap(node) && !isSeq(node)) {
      const source = isScalar(node) ? (node.source ?? String(node.value)) : isAlias(node) ? node.source : "";
      return { bytes: String(source).length + 2, height: 0 };
    }
    if (open.has(node)) {
      problem = { node: node as Node, message: "an alias refers to a collection that contains it (an endless tree)" };
      return { bytes: 0, height: 0 };
    }
    if (depth >= MAX_YAML_DEPTH) {
      problem = { node: node as Node, message: `${DEPTH_MESSAGE} (aliases included)` };
      return { bytes: 0, height: 0 };
    }
    open.add(node);
    let bytes = 2;
    let height = 0;
    for (const item of node.items as unknown[]) {
      const m = measure(item, depth + 1);
      bytes += m.bytes;
      height = Math.max(height, m.height);
      // A shared node measured where it was shallow may be used again somewhere deeper.
      if (depth + 1 + m.height > MAX_YAML_DEPTH && !problem) {
        problem = { node: node as Node, message: `${DEPTH_MESSAGE} (aliases included)` };
      }
      if (bytes > MAX_SPEC_EXPANDED_BYTES && !problem) {
        problem = {
          node: node as Node,
          message: `the spec with its aliases expanded is larger than ${showBytes(MAX_SPEC_EXPANDED_BYTES)} (the limit of an expanded spec)`,
        };
      }
      if (problem) break;
    }
    open.delete(node);
    const result = { bytes, height: height + 1 };
    measured.set(node, result);
    return result;
  };
  measure(root, 0);
  return problem;
}
