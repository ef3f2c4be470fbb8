// What contexts and parameter sets share: their names, their variable maps and the limits on
// both, checked at the edge (routes) so that whatever is stored can be given to a run.
import { z } from "zod";
import { VAR_NAME } from "../dag/values";
import { MAX_INPUT_SET_BYTES, MAX_INPUT_SET_ENTRIES, showBytes, utf8Bytes } from "../limits";

/** A context's or parameter set's name: it appears in paths, CLI flags and DAG files. */
export const INPUT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const InputName = z
  .string()
  .regex(INPUT_NAME, "must start with a letter or digit and hold only letters, digits, _ . - (at most 64)");

/**
 * A map of variable names to values. Values are strings (numbers and booleans are taken as their
 * JSON text, as a start call's params are); names are environment variable names.
 */
export const VariableMap = z
  .record(
    z.string().regex(VAR_NAME, "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),
    z.union([z.string(), z.number(), z.boolean()]).transform(String),
  )
  .superRefine((vars, ctx) => {
    const entries = Object.keys(vars).length;
    if (entries > MAX_INPUT_SET_ENTRIES) {
      ctx.addIssue({ code: "custom", message: `${entries} entries, over the limit of ${MAX_INPUT_SET_ENTRIES}` });
    }
    const bytes = utf8Bytes(JSON.stringify(vars));
    if (bytes > MAX_INPUT_SET_BYTES) {
      ctx.addIssue({ code: "custom", message: `${bytes} bytes, over the limit of ${showBytes(MAX_INPUT_SET_BYTES)}` });
    }
  });

export const Description = z.string().max(1000).optional();

/** A stored map (JSON object text) as entries, in the order it was written. */
export const entriesOf = (json: string): Array<[string, string]> =>
  Object.entries(JSON.parse(json) as Record<string, string>);
