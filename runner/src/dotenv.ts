// `.env` files, read on the runner's host: KEY=value lines, `#` comments, an optional `export `,
// 'single quotes' (literal), "double quotes" (\n \t \" \\ escapes) and bare values (a ` #`
// starts a comment). `${NAME}` and `$NAME` in bare and double-quoted values are expanded from
// the keys read before and then the runner's environment, as the common dotenv tools do.

import { VAR_REF } from "../../src/shared/vars.ts";

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;
const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", $: "$" };

export type DotenvResult = { vars: Array<[string, string]> } | { error: string };

/** The variables of one file's text, in order; `lookup` gives names not set in the file. */
export function parseDotenv(text: string, lookup: (name: string) => string | undefined): DotenvResult {
  const vars: Array<[string, string]> = [];
  const known = new Map<string, string>();
  const expand = (v: string) =>
    v.replace(VAR_REF, (_whole, b, bare) => known.get(b ?? bare) ?? lookup(b ?? bare) ?? "");
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (/^\s*(#|$)/.test(line)) continue;
    const m = LINE.exec(line);
    if (!m) return { error: `line ${i + 1}: expected KEY=value` };
    const key = m[1] as string;
    const raw = (m[2] as string).trim();
    let value: string;
    if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      if (end < 0) return { error: `line ${i + 1}: unterminated ' quote` };
      value = raw.slice(1, end);
    } else if (raw.startsWith('"')) {
      const q = /^"((?:[^"\\]|\\.)*)"/.exec(raw);
      if (!q) return { error: `line ${i + 1}: unterminated " quote` };
      // Escaped characters stand for themselves, so `\$` is never taken for a variable.
      const parts = (q[1] as string).split(/(\\.)/);
      value = parts.map((p, j) => (j % 2 ? (ESCAPES[p[1] as string] ?? p) : expand(p))).join("");
    } else {
      value = expand(raw.replace(/\s+#.*$/, ""));
    }
    known.set(key, value);
    vars.push([key, value]);
  }
  return { vars };
}
