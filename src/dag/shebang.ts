// A script's `#!` line: the interpreter that runs it instead of the shell, as Dagu reads it (the
// rest of the first line, split into words as a shell would, so `#!/usr/bin/env python3 -u`
// gives three words where the kernel would give two). PURE.
import { splitWords } from "./words";

/** The interpreter's argv, or undefined when the script has no `#!` line naming one. */
export function shebangOf(script: string | undefined): string[] | undefined {
  if (!script?.startsWith("#!")) return undefined;
  const end = script.indexOf("\n");
  const line = (end < 0 ? script.slice(2) : script.slice(2, end)).trim();
  const split = splitWords(line);
  if (!split.ok || split.words.length === 0 || split.words[0] === "") return undefined;
  return split.words;
}
