// What a step needs from the runner's host before anything of it runs: its working directory
// made absolute, the variables of its .env files, its secrets. Each reads this machine only; a
// problem is returned as the step's error (the step then fails without running).
import { readFileSync, statSync } from "node:fs";
import type { ExecSpec } from "../../src/shared/protocol.ts";
import { parseDotenv } from "./dotenv.ts";
import { hostPath } from "./host-paths.ts";
import { stepUserEnv } from "./process-group.ts";
import { PRIVATE_ENV } from "./runner-env.ts";

/**
 * What the step's variables mean on this host: `~` and `$HOME` are the step user's. A lookup,
 * not a copy: copying the runner's whole environment cost each step about 0.15 ms.
 */
const hostEnv =
  (exec: ExecSpec) =>
  (name: string): string | undefined =>
    Object.hasOwn(exec.env, name) ? exec.env[name] : (stepUserEnv()[name] ?? process.env[name]);

/** The working directory, absolute, so that every process of the step (conditions too) shares it. */
export function resolveDir(exec: ExecSpec): void {
  exec.dir = hostPath(exec.dir ?? ".", hostEnv(exec));
}

/**
 * Loads the .env files under the step's env (the DAG's and the step's env win, as do the run
 * variables). A missing file is skipped, as Dagu skips it; one the DAG named (`required`) is
 * noted in the step's log through `note`. A malformed or unreadable one fails the step.
 */
export function loadDotenv(exec: ExecSpec, note: (text: string) => void): string | undefined {
  const loaded = new Map<string, string>();
  for (const f of exec.dotenv ?? []) {
    const file = hostPath(f.path, hostEnv(exec));
    let text: string | undefined;
    try {
      // Most steps have no .env file: a read that fails throws, and building the exception cost
      // about 0.1 ms per step; a stat that finds nothing answers without one (Node 22 answers so
      // for a path through a file too, ENOTDIR, which Node 20 throws: both are a missing file
      // here). Any other failure (unreadable, a folder) still throws, from the stat or the read.
      text = statSync(file, { throwIfNoEntry: false }) && readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Or removed between the stat and the read.
      if (code !== "ENOENT" && code !== "ENOTDIR") return `dotenv file ${file}: ${code ?? (err as Error).message}`;
    }
    if (text === undefined) {
      if (f.required) note(`dotenv file ${file} not found; skipped`);
      continue;
    }
    const r = parseDotenv(text, (name) => loaded.get(name) ?? process.env[name]);
    if ("error" in r) return `dotenv file ${file}, ${r.error}`;
    for (const [k, v] of r.vars) loaded.set(k, v);
  }
  // The runner's own credential stays the runner's, whatever a file on its host says.
  for (const name of PRIVATE_ENV) loaded.delete(name);
  // Nothing loaded (no .env file, the usual case): no copy of the step's env.
  if (loaded.size > 0) exec.env = { ...Object.fromEntries(loaded), ...exec.env };
  return undefined;
}

/**
 * Resolves the secrets into the step's env, over any variable of the same name, and hands their
 * values to `mask` (which must hide them from then on). A secret that cannot be resolved fails
 * the step.
 */
export function resolveSecrets(exec: ExecSpec, mask: (values: string[]) => void): string | undefined {
  const values: string[] = [];
  for (const s of exec.secrets ?? []) {
    let value: string;
    if (s.provider === "env") {
      if (PRIVATE_ENV.includes(s.key)) return `secret ${s.name}: ${s.key} is the runner's own credential`;
      const v = process.env[s.key];
      if (v === undefined) return `secret ${s.name}: ${s.key} is not set in the runner's environment`;
      value = v;
    } else {
      const file = hostPath(s.key, hostEnv(exec));
      try {
        // A file's final newline is how editors end it, not part of the secret.
        value = readFileSync(file, "utf8").replace(/\r?\n$/, "");
      } catch (err) {
        return `secret ${s.name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      }
    }
    exec.env[s.name] = value;
    values.push(value);
  }
  mask(values);
  return undefined;
}

/** The step's stdout/stderr files, absolute; relative paths are under its working directory. */
export function outputFilePaths(exec: ExecSpec): { stdout?: string; stderr?: string } {
  const env = hostEnv(exec);
  const at = (file: string | undefined) => (file === undefined ? undefined : hostPath(file, env, exec.dir));
  return { stdout: at(exec.stdoutFile), stderr: at(exec.stderrFile) };
}
