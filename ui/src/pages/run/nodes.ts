// The run's nodes as the page lists them: the DAG's steps, each parallel step followed by its
// instances, then the handlers that ran or will.
import { HANDLER_KEYS, type HandlerKey, type RunDetails, type RunNode } from "../../api/types";

export interface ListedNode {
  node: RunNode;
  /** Set for a handler node: which one. */
  handler?: HandlerKey;
  /** Set for an instance of a parallel step: the step's name. */
  instanceOf?: string;
}

export const HANDLER_NAMES: Record<HandlerKey, string> = {
  onInit: "init",
  onSuccess: "success",
  onFailure: "failure",
  onCancel: "abort",
  onExit: "exit",
};

export function listNodes(details: RunDetails): ListedNode[] {
  const list: ListedNode[] = details.nodes.flatMap((node) => [
    { node },
    ...(node.instances ?? []).map((instance) => ({ node: instance, instanceOf: node.step.name })),
  ]);
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
