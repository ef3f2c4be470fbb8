// A run's output variables: what a step captured, kept within the run's limit. PURE.
import { MAX_RUN_OUTPUTS_BYTES, showBytes, utf8Bytes } from "../../limits";
import type { Draft } from "./draft";
import { fanoutParentOf } from "./fanout-items";

/**
 * A step captured output variable `name`. An instance of a fan-out step keeps it as its own
 * result: the fan-out step's output is the aggregate of its instances (fanout.ts), and instances
 * running side by side would otherwise overwrite one variable in turn.
 */
export function setOutput(d: Draft, step: string, name: string, value: string): void {
  if (fanoutParentOf(d.ctx.stepsByName, step) !== undefined) {
    d.update(step, { result: { ...d.step(step).result, outputs: { [name]: value } } });
    return;
  }
  d.state.outputs = { ...d.state.outputs, [name]: value };
  d.state.outputSteps = { ...d.state.outputSteps, [name]: step };
}

/**
 * Why an output cannot be kept: every later step gets the run's outputs in its environment,
 * which the operating system bounds, so together they stay under MAX_RUN_OUTPUTS_BYTES.
 */
export function outputsOverLimit(d: Draft, name: string, value: string): string | undefined {
  let bytes = utf8Bytes(name) + utf8Bytes(value);
  for (const [k, v] of Object.entries(d.state.outputs)) if (k !== name) bytes += utf8Bytes(k) + utf8Bytes(v);
  if (bytes <= MAX_RUN_OUTPUTS_BYTES) return undefined;
  return `output ${name} would bring the run's outputs to ${bytes} bytes, over the limit of ${showBytes(MAX_RUN_OUTPUTS_BYTES)} for a run's outputs`;
}
