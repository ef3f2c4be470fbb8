// Readers for the value forms several keys share: env lists, params, shell, string lists. Each
// keeps the order written and records problems instead of throwing.
// PURE.
import { isMap, isScalar, isSeq, type Node, type Pair } from "yaml";
import type { Issues } from "./issues";
import type { EnvList, ParamDef } from "./types";
import { splitWords } from "./words";
import { keyOf, scalarText } from "./yaml-nodes";

export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `{K: v}`, `[{K: v}, ...]` or `["K=v", ...]`, in the order written. */
export function readEnv(node: Node, field: string, issues: Issues): EnvList {
  const out: EnvList = [];
  const fromPair = (pair: Pair, where: string) => {
    const key = keyOf(pair);
    const value = scalarText(pair.value);
    if (!VAR_NAME.test(key)) issues.at(pair.key as Node, `${where}.${key}`, `invalid variable name "${key}"`);
    else if (value === undefined) issues.at(pair.value as Node, `${where}.${key}`, `${key} must have a scalar value`);
    else out.push([key, value]);
  };
  if (isMap(node)) {
    for (const pair of node.items) fromPair(pair, field);
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const where = `${field}[${i}]`;
      const text = isScalar(item) && typeof item.value === "string" ? item.value : undefined;
      const eq = text?.indexOf("=") ?? -1;
      if (isMap(item)) for (const pair of item.items) fromPair(pair, where);
      else if (text !== undefined && eq > 0 && VAR_NAME.test(text.slice(0, eq))) {
        out.push([text.slice(0, eq), text.slice(eq + 1)]);
      } else if (text !== undefined && eq > 0) {
        issues.at(item as Node, where, `invalid variable name "${text.slice(0, eq)}"`);
      } else issues.at(item as Node, where, `${where} must be KEY=value or a mapping`);
    });
  } else {
    issues.at(node, field, `${field} must be a mapping or a list`);
  }
  return out;
}

/** One word of a params string or list: `KEY=value` is named, anything else positional. */
export function paramFromWord(word: string): ParamDef {
  const eq = word.indexOf("=");
  const name = eq > 0 ? word.slice(0, eq) : "";
  return VAR_NAME.test(name) ? { name, value: word.slice(eq + 1) } : { name: null, value: word };
}

/** `"a b K=v"`, `[K=v, {K: v}, positional]`, or `{K: v}`. */
export function readParams(node: Node, field: string, issues: Issues): ParamDef[] {
  if (isScalar(node)) {
    const text = scalarText(node);
    if (text === undefined) {
      issues.at(node, field, `${field} must be a string, a list or a mapping`);
      return [];
    }
    const split = splitWords(text);
    if (!split.ok) issues.at(node, field, `${field}: ${split.message}`);
    return split.ok ? split.words.map(paramFromWord) : [];
  }
  if (isMap(node)) {
    if (node.has("schema") && node.items.every((p) => ["schema", "values"].includes(keyOf(p)))) {
      issues.at(node, field, `params with a JSON schema ("schema", "values") is not supported yet`);
      return [];
    }
    return node.items.flatMap((pair) => {
      const name = keyOf(pair);
      if (!VAR_NAME.test(name)) {
        issues.at(pair.key as Node, `${field}.${name}`, `invalid param name "${name}"`);
        return [];
      }
      return [{ name, value: paramValue(pair.value) }];
    });
  }
  if (isSeq(node)) {
    return node.items.flatMap((item, i) => {
      if (isMap(item)) return readParams(item, `${field}[${i}]`, issues);
      const text = scalarText(item);
      if (text === undefined) {
        issues.at(item as Node, `${field}[${i}]`, "a param must be a string or a mapping");
        return [];
      }
      return [paramFromWord(text)];
    });
  }
  issues.at(node, field, `${field} must be a string, a list or a mapping`);
  return [];
}

/** Params are strings on the process's side; a nested value is passed as its JSON text. */
function paramValue(node: unknown): string {
  const text = scalarText(node);
  if (text !== undefined) return text;
  return JSON.stringify((node as { toJSON(): unknown }).toJSON());
}

/** `bash -e` (split shell-style) or `[bash, -e]`. */
export function readShell(node: Node, field: string, issues: Issues): string[] | undefined {
  let words: string[];
  if (isSeq(node)) {
    words = node.items.map((item, i) => {
      const t = scalarText(item);
      if (t === undefined) issues.at(item as Node, `${field}[${i}]`, "shell words must be strings");
      return t ?? "";
    });
  } else {
    const text = issues.string(node, field);
    if (text === undefined) return undefined;
    const split = splitWords(text);
    if (!split.ok) {
      issues.at(node, field, `${field}: ${split.message}`);
      return undefined;
    }
    words = split.words;
  }
  if (words.length === 0 || words[0] === "") {
    issues.at(node, field, `${field} must name a shell`);
    return undefined;
  }
  return words;
}

/** A list of strings, or one string (split on commas when `commaSeparated`). */
export function readStringList(node: Node, field: string, issues: Issues, commaSeparated: boolean): string[] {
  if (isSeq(node)) {
    return node.items.flatMap((item, i) => {
      const t = isScalar(item) && item.value !== null ? scalarText(item) : undefined;
      if (t === undefined) {
        issues.at(item as Node, `${field}[${i}]`, `${field} items must be strings`);
        return [];
      }
      return [t];
    });
  }
  const text = issues.string(node, field);
  if (text === undefined) return [];
  if (!commaSeparated) return [text];
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
