// The params of one run: the DAG's defaults, overridden by the `params` of the start call.
// PURE. The rules:
// - The override is a JSON object (`{"KEY": "value"}`: named; numbers and booleans are taken
//   as their JSON text, null as ""), a JSON array (positional, in order), or Dagu's string form
//   `KEY=value X="a b" positional`, split shell-style (quotes and backslashes respected). Text
//   that starts with `{` or `[` is JSON and must parse.
// - A named override replaces the default of the same name in place; a name the DAG does not
//   declare is added after the declared ones (Dagu lets a run bring its own).
// - Positional overrides replace the positional defaults position by position; extra ones are
//   appended, and defaults beyond the last override stay.
// - `positional` holds positional values only; named params reach a step as environment
//   variables, never as $1, $2, ...
import type { ParamDef } from "./types";
import { paramFromWord, VAR_NAME } from "./values";
import { splitWords } from "./words";

export interface ResolvedParams {
  named: Array<[string, string]>;
  positional: string[];
}

export type ResolveParamsResult = ({ ok: true } & ResolvedParams) | { ok: false; message: string };

export function resolveParams(defs: ParamDef[], override?: string): ResolveParamsResult {
  const given = parseOverride(override ?? "");
  if (!given.ok) return given;
  return { ok: true, ...applyParams(defs, given) };
}

/** The defaults `defs` with `given` over them, by the rules above. */
export function applyParams(defs: ParamDef[], given: ResolvedParams): ResolvedParams {
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const d of defs) {
    if (d.name === null) positional.push(d.value);
    else named.set(d.name, d.value);
  }
  for (const [k, v] of given.named) named.set(k, v);
  given.positional.forEach((v, i) => {
    positional[i] = v;
  });
  return { named: [...named], positional };
}

/** Params given as text (a start's `params`, a parallel item), by the rules above. */
export function parseOverride(text: string): ResolveParamsResult {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, named: [], positional: [] };
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) return fromJson(trimmed);
  const split = splitWords(trimmed);
  if (!split.ok) return { ok: false, message: `params: ${split.message}` };
  const named: Array<[string, string]> = [];
  const positional: string[] = [];
  for (const word of split.words) {
    const p = paramFromWord(word);
    if (p.name === null) positional.push(p.value);
    else named.push([p.name, p.value]);
  }
  return { ok: true, named, positional };
}

function fromJson(text: string): ResolveParamsResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `params is not valid JSON: ${(err as Error).message}` };
  }
  if (Array.isArray(value)) {
    const positional: string[] = [];
    for (const v of value) {
      const s = scalar(v);
      if (s === undefined)
        return { ok: false, message: "a JSON array of params must hold strings, numbers or booleans" };
      positional.push(s);
    }
    return { ok: true, named: [], positional };
  }
  const named: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!VAR_NAME.test(k)) return { ok: false, message: `invalid param name "${k}"` };
    const s = scalar(v);
    if (s === undefined) return { ok: false, message: `param ${k} must be a string, a number or a boolean` };
    named.push([k, s]);
  }
  return { ok: true, named, positional: [] };
}

function scalar(v: unknown): string | undefined {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}
