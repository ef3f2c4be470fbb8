// Paths of a step on the runner's host (its working directory, its stdout/stderr files). The
// server expanded what it knows; `~` and the variables it left (`$HOME`, `${DATA_ROOT}`) mean
// this machine, so they are resolved here, from the step's environment.
import { homedir } from "node:os";
import path from "node:path";
import { expandVars } from "../../src/shared/vars.ts";

/**
 * `p` with `~` and known variables expanded (`env` looks a name up), made absolute against
 * `base` (default: the runner's cwd).
 */
export function hostPath(p: string, env: (name: string) => string | undefined, base?: string): string {
  let s = expandVars(p, env);
  if (s !== "~" && !s.startsWith("~/")) return path.resolve(base ?? ".", s);
  const home = env("HOME") || homedir();
  if (s === "~") s = home;
  else if (s.startsWith("~/")) s = path.join(home, s.slice(2));
  return path.resolve(base ?? ".", s);
}
