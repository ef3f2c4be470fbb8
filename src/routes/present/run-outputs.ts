// Each step's output variables, for GET /dag-runs/{name}/{dagRunId}/outputs.
import type { RunSnapshot } from "../../run/object/rpc";
import { stepNodes } from "./run-details";

export function presentOutputs({ dag, state }: RunSnapshot) {
  const defs = [
    ...stepNodes(dag, state).flatMap((n) => [n.def, ...n.instances.map((i) => i.def)]),
    ...Object.values(dag.handlerOn ?? {}),
  ];
  return {
    name: dag.name,
    dagRunId: state.runId,
    steps: defs.flatMap((def) => {
      if (!def.output) return [];
      const s = state.steps[def.name];
      const captured = state.outputSteps?.[def.output] === def.name && Object.hasOwn(state.outputs, def.output);
      // An instance of a parallel step keeps what it captured as its own; the step's variable is the aggregate.
      const own = def.parallelGroup ? s?.result?.outputs : undefined;
      return [
        {
          step: def.name,
          status: s?.status ?? "not_started",
          outputs: own ?? (captured ? { [def.output]: state.outputs[def.output] as string } : {}),
        },
      ];
    }),
    variables: { ...state.outputs },
  };
}
