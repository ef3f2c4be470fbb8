// One step in the graph: a button (keyboard and screen readers reach it) showing the name and the
// status in words, coloured by status; handlers are drawn apart with a dashed border.
import { Handle, type Node, type NodeProps, Position } from "@xyflow/react";
import { createContext, memo, useContext } from "react";
import type { StepStatusLabel } from "../api/types";
import { statusColor, statusText } from "../lib/status";

export interface StepNodeData extends Record<string, unknown> {
  name: string;
  label?: string;
  status?: StepStatusLabel;
  handler: boolean;
}
export type StepNode = Node<StepNodeData, "step">;

export interface GraphSelection {
  selected?: string;
  onSelect?: (name: string) => void;
}
/** Selection lives in context so choosing a step re-renders only the nodes on screen. */
export const SelectionContext = createContext<GraphSelection>({});

export const StepNodeView = memo(function StepNodeView({ data }: NodeProps<StepNode>) {
  const { selected, onSelect } = useContext(SelectionContext);
  const status = data.status ?? "not_started";
  const isSelected = selected === data.name;
  const classes = ["dag-node", data.handler && "handler", isSelected && "selected"].filter(Boolean).join(" ");
  return (
    <>
      {!data.handler && <Handle type="target" position={Position.Left} isConnectable={false} />}
      <button
        type="button"
        className={classes}
        data-step={data.name}
        data-status={status}
        aria-label={`${data.name}: ${statusText(status)}`}
        aria-pressed={isSelected}
        title={`${data.name}: ${statusText(status)}`}
        style={{ "--c": statusColor(status) } as React.CSSProperties}
        onClick={() => onSelect?.(data.name)}
      >
        <span className="dag-node-name">{data.label ?? data.name}</span>
        <span className="dag-node-status">{statusText(status)}</span>
      </button>
      {!data.handler && <Handle type="source" position={Position.Right} isConnectable={false} />}
    </>
  );
});
