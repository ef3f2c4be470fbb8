// Readers for the DAG file's value forms that several keys share: env lists, params, shell,
// string lists. Each keeps the order written and records problems instead of throwing.
import { isMap, isScalar, isSeq, type Node, type Pair } from "yaml";
import type { Issues } from "./issues";
import type { EnvList, ParamDef } from "./types";

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const keyOf = (pair: Pair): string => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key));

function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  return v === null ? "" : typeof v === "object" ? undefined : String(v);
}

/** `{K: v}`, `[{K: v}, ...]` or `["K=v", ...]`, in the order written. */
export function readEnv(node: Node, field: string, issues: Issues): EnvList {
  const out: EnvList = [];
  const fromPair = (pair: Pair, where: string) => {
    const key = keyOf(pair);
    const value = scalarText(pair.value);
    if (!ENV_KEY.test(key)) issues.at(pair.key as Node, `${where}.${key}`, `invalid variable name "${key}"`);
    else if (value === undefined) issues.at(pair.value as Node, `${where}.${key}`, `${key} must have a scalar value`);
    else out.push([key, value]);
  };
  if (isMap(node)) {
    for (const pair of node.items) fromPair(pair, field);
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const where = `${field}[${i}]`;
      if (isMap(item)) for (const pair of item.items) fromPair(pair, where);
      else if (isScalar(item) && typeof item.value === "string" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(item.value)) {
        const eq = item.value.indexOf("=");
        out.push([item.value.slice(0, eq), item.value.slice(eq + 1)]);
      } else issues.at(item as Node, where, `${where} must be KEY=value or a mapping`);
    });
  } else {
    issues.at(node, field, `${field} must be a mapping or a list`);
  }
  return out;
}

/** Splits a command-line-like string into words, honouring single and double quotes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let current = "";
  let last = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const piece = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3] ?? "");
    // Adjacent pieces (KEY="a b") belong to one word.
    if (m.index === last) current += piece;
    else {
      if (last !== -1) words.push(current);
      current = piece;
    }
    last = re.lastIndex;
  }
  if (last !== -1) words.push(current);
  return words;
}

/** One word of a params string: `KEY=value` is named, anything else positional. */
export function paramFromWord(word: string): ParamDef {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(word);
  return m ? { name: m[1] as string, value: m[2] as string } : { name: null, value: word };
}

/** `"a b K=v"`, `[K=v, {K: v}, positional]`, or `{K: v}`. */
export function readParams(node: Node, field: string, issues: Issues): ParamDef[] {
  if (isScalar(node)) {
    const text = scalarText(node);
    if (text === undefined) issues.at(node, field, `${field} must be a string, a list or a mapping`);
    return text ? splitWords(text).map(paramFromWord) : [];
  }
  if (isMap(node)) {
    if (node.has("schema")) {
      issues.at(node, field, `params with a JSON schema ("schema", "values") is not supported yet`);
      return [];
    }
    return node.items.flatMap((pair) => {
      const value = scalarText(pair.value);
      if (value === undefined) {
        issues.at(pair.value as Node, `${field}.${keyOf(pair)}`, "a param must have a scalar value");
        return [];
      }
      return [{ name: keyOf(pair), value }];
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

/** `bash -e` or `[bash, -e]`. */
export function readShell(node: Node, field: string, issues: Issues): string[] | undefined {
  const words = isSeq(node)
    ? node.items.map((item, i) => {
        const t = scalarText(item);
        if (t === undefined) issues.at(item as Node, `${field}[${i}]`, "shell words must be strings");
        return t ?? "";
      })
    : splitWords(issues.string(node, field) ?? "");
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
      const t = scalarText(item);
      if (t === undefined) {
        issues.at(item as Node, `${field}[${i}]`, `${field} items must be strings`);
        return [];
      }
      return [t];
    });
  }
  const text = issues.string(node, field);
  if (text === undefined) return [];
  return commaSeparated
    ? text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [text];
}
