// /parameter-sets: named params a run can be started with (src/inputs/parameter-sets.ts), in the
// shape every named input set has (input-sets.ts).
import {
  createParameterSet,
  deleteParameterSet,
  getParameterSet,
  listParameterSets,
  ParameterSetBody,
  ParameterSetInfo,
  ParameterSetList,
  replaceParameterSet,
} from "../inputs/parameter-sets";
import { inputSetRoute } from "./input-sets";

export const parameterSetsRoute = inputSetRoute({
  noun: "parameter set",
  plural: "parameter sets",
  tag: "parameter-sets",
  listKey: "parameterSets",
  what: "named params a run can be started with",
  fields: "description and params",
  badCreate: "A bad name or param",
  badReplace: "A bad param",
  getSummary: "A parameter set",
  deleteSummary: "Delete a parameter set",
  schemas: { body: ParameterSetBody, info: ParameterSetInfo, details: ParameterSetInfo, list: ParameterSetList },
  store: {
    list: listParameterSets,
    get: getParameterSet,
    create: createParameterSet,
    replace: replaceParameterSet,
    remove: deleteParameterSet,
  },
});
