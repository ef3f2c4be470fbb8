// A DAG's steps as a graph: laid out by ELK in a web worker, drawn by xyflow with zoom, pan, a
// minimap and controls, nodes coloured by status (and the status in words). Only the nodes in
// view are in the DOM, so thousands of steps stay responsive.
import {
  Background,
  Controls,
  type Edge,
  MarkerType,
  MiniMap,
  type Node,
  type NodeProps,
  ReactFlow,
  type Viewport,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useEffect, useMemo, useState } from "react";
import type { StepStatusLabel } from "../api/types";
import { statusColor } from "../lib/status";
import { useTheme } from "../lib/use-theme";
import { edgesOf, type Layout, layoutGraph, NODE_HEIGHT, NODE_WIDTH, shapeKey, shapeOf } from "./dag-graph-layout";
import { SelectionContext, type StepNode, StepNodeView } from "./dag-graph-node";
import "./dag-graph.css";

export interface DagGraphStep {
  name: string;
  /** The steps this one waits for (explicit for chain DAGs too, as the API serves them). */
  depends: string[];
  status?: StepStatusLabel;
  /** Shown instead of the name (the name stays in the accessible label). */
  label?: string;
  /** A lifecycle handler (onInit, onSuccess, onFailure, onCancel, onExit): drawn apart, unlinked. */
  handler?: boolean;
}

export interface DagGraphProps {
  steps: DagGraphStep[];
  /** The highlighted step. */
  selected?: string;
  onSelect?: (name: string) => void;
  /** In pixels; the graph fills its container's width. */
  height?: number;
  /** The graph's accessible name. */
  ariaLabel?: string;
}

type CaptionNode = Node<{ text: string }, "caption">;
function CaptionView({ data }: NodeProps<CaptionNode>) {
  return <div className="dag-graph-caption">{data.text}</div>;
}
const NODE_TYPES = { step: StepNodeView, caption: CaptionView };

// Below this zoom a whole-graph view is unreadable: large graphs open at their first steps instead.
const READABLE_ZOOM = 0.5;
const START_ZOOM = 0.8;
const PAD = 24;

export function DagGraph({ steps, selected, onSelect, height = 560, ariaLabel = "DAG graph" }: DagGraphProps) {
  const theme = useTheme();
  const key = shapeKey(steps);
  const [layout, setLayout] = useState<{ key: string; layout: Layout } | null>(null);
  const [error, setError] = useState<unknown>(null);

  const shape = useMemo(() => shapeOf(key), [key]);

  useEffect(() => {
    let current = true;
    setError(null);
    layoutGraph(shape).then(
      (l) => current && setLayout({ key, layout: l }),
      (err: unknown) => current && setError(err),
    );
    return () => {
      current = false;
    };
  }, [key, shape]);

  const ready = layout?.key === key ? layout.layout : null;

  const edges = useMemo<Edge[]>(
    () =>
      edgesOf(shape).map((e) => ({
        id: `${e.source}->${e.target}`,
        source: e.source,
        target: e.target,
        markerEnd: { type: MarkerType.ArrowClosed },
        focusable: false,
      })),
    [shape],
  );

  // Rebuilt when a status changes, with the cached positions: no relayout.
  const nodes = useMemo<Array<StepNode | CaptionNode>>(() => {
    if (!ready) return [];
    const out: Array<StepNode | CaptionNode> = steps.map((s) => ({
      id: s.name,
      type: "step",
      position: ready.positions.get(s.name) ?? { x: 0, y: 0 },
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      data: { name: s.name, label: s.label, status: s.status, handler: s.handler === true },
      draggable: false,
      selectable: false,
      focusable: false,
    }));
    if (ready.handlerRowY !== undefined) {
      out.push({
        id: "\u0000handlers",
        type: "caption",
        position: { x: 12, y: ready.handlerRowY - 28 },
        data: { text: "Lifecycle handlers" },
        draggable: false,
        selectable: false,
        focusable: false,
      });
    }
    return out;
  }, [ready, steps]);

  const viewport = useMemo(() => (ready ? startViewport(ready, height) : null), [ready, height]);

  return (
    <section className="dag-graph" style={{ height }} aria-label={ariaLabel} aria-busy={!ready}>
      {error ? (
        <p className="dag-graph-status error-text" role="alert">
          The graph could not be laid out: {error instanceof Error ? error.message : String(error)}
        </p>
      ) : !ready || !viewport ? (
        <p className="dag-graph-status" role="status">
          Laying out {steps.length} steps…
        </p>
      ) : (
        <SelectionContext.Provider value={{ selected }}>
          <ReactFlow
            // A new shape gets a new view; a status change keeps the user's zoom and pan.
            key={key}
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            onNodeClick={(_, n) => n.type === "step" && onSelect?.(n.id)}
            colorMode={theme}
            defaultViewport={viewport.viewport}
            fitView={viewport.fit}
            fitViewOptions={{ padding: 0.1, maxZoom: 1 }}
            minZoom={0.02}
            maxZoom={2}
            onlyRenderVisibleElements
            nodesDraggable={false}
            nodesConnectable={false}
            nodesFocusable={false}
            edgesFocusable={false}
            elementsSelectable={false}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls showInteractive={false} />
            <MiniMap
              pannable
              zoomable
              ariaLabel="graph overview"
              nodeColor={(n) => statusColor((n.data as { status?: StepStatusLabel }).status ?? "not_started")}
            />
          </ReactFlow>
        </SelectionContext.Provider>
      )}
    </section>
  );
}

/** The whole graph when it is readable that way, else its first steps (the left) at a readable zoom. */
function startViewport(l: Layout, height: number): { fit: boolean; viewport?: Viewport } {
  // The container's width is not known yet; a common one is good enough to choose between the two.
  const fitZoom = Math.min(900 / (l.width + 2 * PAD), height / (l.height + 2 * PAD));
  if (fitZoom >= READABLE_ZOOM) return { fit: true };
  // The first layer (the leftmost steps), centred vertically.
  let minX = Number.POSITIVE_INFINITY;
  for (const p of l.positions.values()) minX = Math.min(minX, p.x);
  const first = [...l.positions.values()].filter((p) => p.x < minX + NODE_WIDTH);
  const top = Math.min(...first.map((p) => p.y));
  const bottom = Math.max(...first.map((p) => p.y)) + NODE_HEIGHT;
  const middle = Math.min((top + bottom) / 2, top + height / START_ZOOM / 2 - PAD);
  return {
    fit: false,
    viewport: { x: PAD - minX * START_ZOOM, y: height / 2 - middle * START_ZOOM, zoom: START_ZOOM },
  };
}
