// Params of a run: the DAG's defaults, overridden by what the start call gives.
// - Named defaults (`KEY=value`) are replaced by a named override of the same KEY; an unknown
//   KEY is added.
// - Positional defaults are replaced position by position by positional override words; extra
//   positional words are appended.
// - The override is JSON (an object: named; an array of strings: positional) or Dagu's string
//   form `KEY=value "a b" c`, quotes respected.
import type { ParamDef } from "./types";
import { paramFromWord, splitWords } from "./values";

export interface ResolvedParams {
  named: Array<[string, string]>;
  positional: string[];
}

export function resolveParams(
  defs: ParamDef[],
  override?: string,
): ({ ok: true } & ResolvedParams) | { ok: false; message: string } {
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const d of defs) {
    if (d.name === null) positional.push(d.value);
    else named.set(d.name, d.value);
  }
  const parsed = parseOverride(override ?? "");
  if (!parsed.ok) return parsed;
  for (const [k, v] of parsed.named) named.set(k, v);
  parsed.positional.forEach((v, i) => {
    positional[i] = v;
  });
  return { ok: true, named: [...named], positional };
}

function parseOverride(text: string): ({ ok: true } & ResolvedParams) | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, named: [], positional: [] };
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      return { ok: false, message: `not valid JSON: ${(err as Error).message}` };
    }
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
        return { ok: false, message: "a JSON array of params must hold strings" };
      }
      return { ok: true, named: [], positional: value.map(String) };
    }
    const named: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return { ok: false, message: `invalid param name "${k}"` };
      if (v !== null && typeof v === "object")
        return { ok: false, message: `param ${k} must be a string, number or boolean` };
      named.push([k, v === null ? "" : String(v)]);
    }
    return { ok: true, named, positional: [] };
  }
  const named: Array<[string, string]> = [];
  const positional: string[] = [];
  for (const word of splitWords(trimmed)) {
    const p = paramFromWord(word);
    if (p.name === null) positional.push(p.value);
    else named.push([p.name, p.value]);
  }
  return { ok: true, named, positional };
}
