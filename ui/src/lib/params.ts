// A DAG's params as form fields: its names (`$1`, `$2`, ... for positional ones) with their
// defaults, and back to the `params` of a start call.

export interface ParamField {
  name: string;
  value: string;
}

// One word of Dagu's `KEY=value` line as the API writes it: values with spaces or quotes are
// JSON strings.
const WORD = /(?:([A-Za-z_][A-Za-z0-9_]*)=)?("(?:[^"\\]|\\.)*"|\S+)/g;

function unquote(v: string): string {
  if (!v.startsWith('"')) return v;
  try {
    return JSON.parse(v) as string;
  } catch {
    return v; // not JSON after all: show it as written
  }
}

/** The fields for `names` (the DAG's `params`), filled from `defaults` (its `defaultParams`). */
export function paramFields(names: string[], defaults: string): ParamField[] {
  const values = [...defaults.matchAll(WORD)].map((m) => unquote(m[2] ?? ""));
  return names.map((name, i) => ({ name, value: values[i] ?? "" }));
}

const isPositional = (name: string) => /^\$\d+$/.test(name);
const quote = (v: string) => (/^[^\s"'\\]+$/.test(v) ? v : JSON.stringify(v));

/**
 * The `params` of POST /dags/{fileName}/start: a JSON object when every param is named (values
 * pass exactly as typed), else Dagu's `KEY=value` line with positional values in order.
 */
export function startParams(fields: ParamField[]): string | undefined {
  if (fields.length === 0) return undefined;
  if (fields.every((f) => !isPositional(f.name))) {
    return JSON.stringify(Object.fromEntries(fields.map((f) => [f.name, f.value])));
  }
  return fields.map((f) => (isPositional(f.name) ? quote(f.value) : `${f.name}=${quote(f.value)}`)).join(" ");
}
