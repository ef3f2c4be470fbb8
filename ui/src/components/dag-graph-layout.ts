// Where each step's box goes: ELK's layered layout (left to right), computed in a web worker so a
// graph of thousands of steps never blocks the page. Layouts are cached by the graph's shape
// (names, edges, handlers), so a status change redraws without laying out again.
import ELK, { type ElkNode } from "elkjs/lib/elk-api";
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 52;
const HANDLER_GAP = 80;

/** What the layout depends on: the shape of the graph, never the statuses. */
export interface GraphShape {
  name: string;
  depends: string[];
  handler?: boolean;
}

export interface Layout {
  positions: Map<string, { x: number; y: number }>;
  /** Where the handler row starts (below the steps), when there are handlers. */
  handlerRowY?: number;
  width: number;
  height: number;
}

let elk: InstanceType<typeof ELK> | null = null;
const engine = () => {
  elk ??= new ELK({ workerUrl: elkWorkerUrl });
  return elk;
};

// Past this size ELK's most thorough passes take seconds; the cheaper ones still give a readable,
// crossing-light layout because steps keep their file order within a layer.
const LARGE_GRAPH = 300;
const OPTIONS = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.spacing.nodeNode": "24",
  "elk.layered.spacing.nodeNodeBetweenLayers": "64",
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
};
const LARGE_OPTIONS = {
  ...OPTIONS,
  "elk.edgeRouting": "POLYLINE",
  "elk.layered.thoroughness": "1",
  "elk.layered.layering.strategy": "LONGEST_PATH",
  "elk.layered.nodePlacement.strategy": "SIMPLE",
  "elk.layered.crossingMinimization.strategy": "INTERACTIVE",
  "elk.layered.compaction.postCompaction.strategy": "NONE",
};

/** The key a layout is cached under: the graph's shape, independent of statuses and labels. */
export function shapeKey(steps: readonly GraphShape[]): string {
  return JSON.stringify(steps.map((s) => [s.name, s.depends, s.handler === true]));
}

/** The shape back from its key (so hooks can depend on the key alone). */
export function shapeOf(key: string): GraphShape[] {
  return (JSON.parse(key) as Array<[string, string[], boolean]>).map(([name, depends, handler]) => ({
    name,
    depends,
    handler,
  }));
}

/** Edges the engine follows: from each dependency to its dependent, for steps that exist. */
export function edgesOf(steps: readonly GraphShape[]): Array<{ source: string; target: string }> {
  const names = new Set(steps.map((s) => s.name));
  const edges: Array<{ source: string; target: string }> = [];
  for (const s of steps) {
    if (s.handler) continue;
    for (const d of s.depends) if (names.has(d) && d !== s.name) edges.push({ source: d, target: s.name });
  }
  return edges;
}

const cache = new Map<string, Promise<Layout>>();
const CACHE_SIZE = 8;

/** The layout of a graph, from the cache when its shape was laid out before. */
export function layoutGraph(steps: readonly GraphShape[]): Promise<Layout> {
  const key = shapeKey(steps);
  const hit = cache.get(key);
  if (hit) return hit;
  const p = compute(steps);
  cache.set(key, p);
  // A failed layout is not kept: the next render may try again.
  p.catch(() => cache.delete(key));
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return p;
}

async function compute(steps: readonly GraphShape[]): Promise<Layout> {
  const main = steps.filter((s) => !s.handler);
  const handlers = steps.filter((s) => s.handler);
  const positions = new Map<string, { x: number; y: number }>();
  let width = 0;
  let height = 0;
  if (main.length > 0) {
    const root: ElkNode = await engine().layout({
      id: "root",
      layoutOptions: main.length > LARGE_GRAPH ? LARGE_OPTIONS : OPTIONS,
      children: main.map((s) => ({ id: s.name, width: NODE_WIDTH, height: NODE_HEIGHT })),
      edges: edgesOf(main).map((e, i) => ({ id: `e${i}`, sources: [e.source], targets: [e.target] })),
    });
    for (const c of root.children ?? []) positions.set(c.id, { x: c.x ?? 0, y: c.y ?? 0 });
    width = root.width ?? 0;
    height = root.height ?? 0;
  }
  // Handlers run outside the dependency graph (before or after all of it): a row of their own.
  if (handlers.length === 0) return { positions, width, height };
  const handlerRowY = main.length > 0 ? height + HANDLER_GAP : 0;
  handlers.forEach((h, i) => {
    positions.set(h.name, { x: 12 + i * (NODE_WIDTH + 24), y: handlerRowY });
  });
  return {
    positions,
    handlerRowY,
    width: Math.max(width, handlers.length * (NODE_WIDTH + 24)),
    height: handlerRowY + NODE_HEIGHT,
  };
}
