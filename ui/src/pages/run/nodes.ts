// The run's nodes as the page lists them: the DAG's steps, then the handlers that ran or will.
import { HANDLER_KEYS, type HandlerKey, type RunDetails, type RunNode } from "../../api/types";

export interface ListedNode {
  node: RunNode;
  /** Set for a handler node: which one. */
  handler?: HandlerKey;
}

export const HANDLER_NAMES: Record<HandlerKey, string> = {
  onInit: "init",
  onSuccess: "success",
  onFailure: "failure",
  onCancel: "abort",
  onExit: "exit",
};

export function listNodes(details: RunDetails): ListedNode[] {
  const list: ListedNode[] = details.nodes.map((node) => ({ node }));
  for (const key of HANDLER_KEYS) {
    const node = details[key];
    if (node) list.push({ node, handler: key });
  }
  return list;
}

/** A node by its step name, handlers included. */
export function findNode(details: RunDetails, stepName: string): ListedNode | undefined {
  return listNodes(details).find((l) => l.node.step.name === stepName);
}
