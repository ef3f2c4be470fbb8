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
        id: `${e.source}\u0000${e.target}`,
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

  const viewport = useMemo(() => (ready ? startViewport(ready) : null), [ready]);

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
        <SelectionContext.Provider value={{ selected, onSelect }}>
          <ReactFlow
            // A new shape gets a new view; a status change keeps the user's zoom and pan.
            key={key}
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
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

/** The whole graph when it is readable that way, else its start (left, top) at a readable zoom. */
function startViewport(l: Layout): { fit: boolean; viewport?: Viewport } {
  // The container is at least this large in practice; the exact size does not matter for the choice.
  const fitZoom = Math.min(900 / (l.width + 2 * PAD), 480 / (l.height + 2 * PAD));
  if (fitZoom >= READABLE_ZOOM) return { fit: true };
  return { fit: false, viewport: { x: PAD, y: PAD, zoom: START_ZOOM } };
}
