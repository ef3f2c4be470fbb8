// GET /dags/search: Dagu's grep over DAG files. The text is a regular expression in Go's (RE2)
// syntax, matched in any case; each matching line comes with up to two lines before and after
// it. RE2 rather than JavaScript's RegExp: the same syntax as Dagu, and matching in linear time,
// so no search text can make the Worker backtrack for seconds over every DAG. PURE.
import { RE2JS } from "re2js";
import { AppError } from "../errors";

/** Lines of context on each side of a match, as Dagu gives. */
const CONTEXT_LINES = 2;

export interface SearchMatch {
  /** The matching line with its context, joined by newlines. */
  line: string;
  /** 1-based. */
  lineNumber: number;
  /** The first line of `line`, 1-based. */
  startLine: number;
}

/** Compiles the search text, case-insensitive; a 400 naming `q` when it is not an expression. */
export function searchPattern(q: string): RE2JS {
  try {
    return RE2JS.compile(q, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    throw new AppError("bad_request", 400, `q is not a regular expression (RE2 syntax): ${(err as Error).message}`, {
      field: "q",
    });
  }
}

/** The lines of a text as a line scanner reads them: no empty line after a final newline, no `\r`. */
function lines(text: string): string[] {
  const all = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (all.at(-1) === "") all.pop();
  return all;
}

/** Every line of `spec` the pattern finds something in, with its context. */
export function grepSpec(spec: string, pattern: RE2JS): SearchMatch[] {
  const all = lines(spec);
  return all.flatMap((text, i) => {
    if (!pattern.matcher(text).find()) return [];
    const start = Math.max(0, i - CONTEXT_LINES);
    const end = Math.min(all.length, i + 1 + CONTEXT_LINES);
    return [{ line: all.slice(start, end).join("\n"), lineNumber: i + 1, startLine: start + 1 }];
  });
}
