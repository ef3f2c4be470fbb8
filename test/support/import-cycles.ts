// Import cycles in a module graph, each shown as the path that closes it
// (`a.ts -> b.ts -> a.ts`), so a failing layout test says which imports to untie.

/** File -> the files it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/**
 * One cycle per strongly connected component that has one (Tarjan's algorithm), the shortest
 * through the component's first file in sorted order; each starts and ends with that file.
 */
export function findCycles(graph: ImportGraph): string[][] {
  return components(graph)
    .filter((c) => c.length > 1 || (graph.get(c[0] ?? "") ?? []).includes(c[0] ?? ""))
    .map((c) => shortestCycle(graph, new Set(c), [...c].sort()[0] ?? ""))
    .sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
}

function components(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  // Iterative, so a long import chain cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    const enter = (node: string) => {
      index.set(node, index.size);
      low.set(node, index.get(node) ?? 0);
      stack.push(node);
      onStack.add(node);
    };
    enter(start);
    while (work.length) {
      const top = work[work.length - 1];
      if (!top) break;
      const targets = graph.get(top.node) ?? [];
      const target = targets[top.next++];
      if (target !== undefined) {
        if (!index.has(target)) {
          enter(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(top.node, Math.min(low.get(top.node) ?? 0, index.get(target) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(top.node) ?? 0));
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      for (;;) {
        const n = stack.pop();
        if (n === undefined) break;
        onStack.delete(n);
        component.push(n);
        if (n === top.node) break;
      }
      out.push(component);
    }
  }
  return out;
}

/** The shortest path from `start` back to itself inside `within` (breadth first). */
function shortestCycle(graph: ImportGraph, within: ReadonlySet<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] ?? "";
    for (const target of graph.get(node) ?? []) {
      if (!within.has(target)) continue;
      if (target === start) {
        const between: string[] = [];
        for (let n: string | undefined = node; n !== undefined && n !== start; n = cameFrom.get(n)) between.unshift(n);
        return [start, ...between, start];
      }
      if (cameFrom.has(target)) continue;
      cameFrom.set(target, node);
      queue.push(target);
    }
  }
  return [start, start];
}
