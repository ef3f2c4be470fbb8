// The plan of a DAG: its steps in layers, each layer's steps depending only on earlier layers,
// so all steps of a layer may run at once. PURE.
import type { PlanStep } from "./api-types.ts";

export function layers(steps: PlanStep[]): string[][] {
  const layerOf = new Map<string, number>();
  const byName = new Map(steps.map((s) => [s.name, s]));
  const visit = (name: string, path: Set<string>): number => {
    const known = layerOf.get(name);
    if (known !== undefined) return known;
    // The server refuses cycles; one here would be a bug, not an endless loop.
    if (path.has(name)) throw new Error(`dependency cycle through ${name}`);
    path.add(name);
    const deps = byName.get(name)?.depends ?? [];
    const layer = deps.length ? 1 + Math.max(...deps.map((d) => visit(d, path))) : 0;
    path.delete(name);
    layerOf.set(name, layer);
    return layer;
  };
  const out: string[][] = [];
  for (const s of steps) {
    const layer = visit(s.name, new Set());
    out[layer] = [...(out[layer] ?? []), s.name];
  }
  return out;
}
