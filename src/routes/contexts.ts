// /contexts: named variable sets a run can be started with (src/inputs/contexts.ts), in the shape
// every named input set has (input-sets.ts).
import {
  ContextBody,
  ContextDetails,
  ContextInfo,
  ContextList,
  createContext,
  deleteContext,
  getContext,
  listContexts,
  replaceContext,
} from "../inputs/contexts";
import { inputSetRoute } from "./input-sets";

export const contextsRoute = inputSetRoute({
  noun: "context",
  plural: "contexts",
  tag: "contexts",
  listKey: "contexts",
  what: "named variables a run can be started with, optionally extending another",
  fields: "description, variables and parent",
  badCreate: "A bad name or variable, an unknown parent, a cycle, or a chain too deep",
  badReplace: "A bad variable, an unknown parent, a cycle, or a chain too deep",
  getSummary: "A context, with `resolved`: the variables a run started with it gets",
  deleteSummary: "Delete a context that no other context extends",
  deleteConflict: "Another context extends it",
  schemas: { body: ContextBody, info: ContextInfo, details: ContextDetails, list: ContextList },
  store: {
    list: listContexts,
    get: getContext,
    create: createContext,
    replace: replaceContext,
    remove: deleteContext,
  },
});
