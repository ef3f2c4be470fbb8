// A step's setup on this host before its process starts: its files, working directory, .env
// files, secrets and shell-expanded values, then its preconditions. Each part returns an error
// (a string) that is noted in the step's log and ends the step without running it.
import { envBytes, MAX_REPORTED_ENV_BYTES } from "../../src/shared/protocol.ts";
import { evaluateCondition, expandWithShell } from "./conditions.ts";
import { loadDotenv, resolveDir, resolveSecrets } from "./host-setup.ts";
import { Masker } from "./mask.ts";
import { expandShellFiles } from "./output-files.ts";
import type { StepState } from "./step-state.ts";

/**
 * Prepares the step's environment. Returns the `reportEnv` values to share with the run, or the
 * error that ends the step: at once when nothing needs the step's shell (the usual case), so
 * that a chain's next step, run ahead, is started before its predecessor's bookkeeping resumes;
 * a promise of them when a value or a file's path runs a command first.
 */
export function prepareStep(s: StepState): Prepared | Promise<Prepared> {
  const error = prepareHost(s);
  if (error !== undefined) return error;
  const { shellEnv, shellFiles } = s.lease.exec;
  if (!shellEnv?.length && !shellFiles?.length) return sharedEnv(s);
  return (async () => (await expandShellEnv(s)) ?? (await expandShellFilePaths(s)) ?? sharedEnv(s))();
}

/** The `reportEnv` values to share with the run, or the error that ends the step. */
export type Prepared = Record<string, string> | string;

/** The step's setup on this host (see host-setup.ts); an error is noted and ends the step. */
function prepareHost(s: StepState): string | undefined {
  const { exec } = s.lease;
  resolveDir(exec);
  const error =
    createFiles(s) ??
    loadDotenv(exec, (text) => s.note(text)) ??
    resolveSecrets(exec, (values) => {
      // No secret (the usual case): the mask of the runner's token stays as it is.
      if (values.length > 0) s.masker = new Masker([...values, ...s.hidden()]);
    }) ??
    tokenInEnv(s);
  if (error !== undefined) s.note(error);
  return error;
}

/** The attempt's files on this host, named to the step as Dagu names them (run-files.ts). */
function createFiles(s: StepState): string | undefined {
  const created = s.opts.runFiles?.open(s.lease);
  if (created === undefined) return undefined;
  if ("error" in created) return created.error;
  const { paths } = created;
  s.setFiles(paths, created.fds);
  Object.assign(s.lease.exec.env, {
    DAG_RUN_LOG_FILE: paths.runLog,
    DAG_RUN_STEP_STDOUT_FILE: paths.stdout,
    DAG_RUN_STEP_STDERR_FILE: paths.stderr,
  });
  return undefined;
}

/** A .env file or a secret file read with the runner's rights must not hand the step its token. */
function tokenInEnv(s: StepState): string | undefined {
  const token = s.opts.runnerToken;
  if (!token) return undefined;
  const name = Object.entries(s.lease.exec.env).find(([, v]) => v.includes(token))?.[0];
  return name === undefined ? undefined : `env ${name} would hold the runner's own token; refused`;
}

/** Expands env values holding backticks with the step's shell, in order; an error ends the step. */
async function expandShellEnv(s: StepState): Promise<string | undefined> {
  const { exec } = s.lease;
  for (const key of exec.shellEnv ?? []) {
    const template = exec.env[key];
    if (template === undefined) continue;
    const r = await expandWithShell(exec, template);
    if ("error" in r) {
      const error = `env ${key}: command substitution failed (${r.error})`;
      s.note(error);
      return error;
    }
    exec.env[key] = r.value;
  }
  return undefined;
}

/** The stdout/stderr paths written with backticks, expanded (output-files.ts); an error ends the step. */
async function expandShellFilePaths(s: StepState): Promise<string | undefined> {
  const error = await expandShellFiles(s.lease.exec);
  if (error !== undefined) s.note(error);
  return error;
}

/**
 * The values the server asked back (`reportEnv`), evaluated here once for the run or the step;
 * an error (a string) when they are too large to share. A value that holds a secret's value or
 * the runner's token stays on this host, and each attempt evaluates it again.
 */
function sharedEnv(s: StepState): Record<string, string> | string {
  const values: Record<string, string> = {};
  for (const key of s.lease.exec.reportEnv ?? []) {
    const value = s.lease.exec.env[key];
    if (value === undefined) continue;
    if (s.masker.text(value) !== value) {
      s.note(`env ${key} holds a secret's value; it is evaluated again by each step, not shared`);
      continue;
    }
    values[key] = value;
  }
  const bytes = envBytes(values);
  if (bytes <= MAX_REPORTED_ENV_BYTES) return values;
  const error = `env values evaluated for the run come to ${bytes} bytes, over the limit of ${MAX_REPORTED_ENV_BYTES} bytes`;
  s.note(error);
  return error;
}

/** The first unmet precondition, described; undefined when all hold. */
export async function checkPreconditions(s: StepState): Promise<string | undefined> {
  for (const c of s.lease.exec.preconditions ?? []) {
    if (s.stopping) return undefined;
    const r = await evaluateCondition(s.lease.exec, c);
    s.note(`precondition ${r.met ? "met" : "not met"}: ${r.detail}`);
    if (!r.met) {
      s.opts.log(`${s.label}: precondition not met (${r.detail}); skipping`);
      return r.detail;
    }
  }
  return undefined;
}
