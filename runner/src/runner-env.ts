// The runner's own environment, which every step's starts from. Reading `process.env` whole is
// dear: each variable is a call into Node's C++ (`getenv` and a new string), about 0.2 to 0.3 ms
// for 35 variables on a loaded host, a tenth of the runner's CPU per step in a wide run
// (BENCHMARKS.md "A wide run's cost per step"). So it is read at most once per turn of the
// event loop: the steps a reply brings start in the same turn and share one copy, and a change
// the runner's host process makes to `process.env` (an embedding program, a test) is seen by the
// next step started in a later turn. The runner program itself (cli.ts) reads it once for its
// life (`keepRunnerEnv`): nothing in it changes its own environment, and no other process can, so
// a chain, whose steps start one a turn, does not pay the copy for every step.

/**
 * The runner's credential and where it is kept: never passed to a step. (The runner refuses to
 * start with the token itself in its environment; the names are dropped all the same.)
 */
export const PRIVATE_ENV = ["DAGFLARE_RUNNER_TOKEN", "DAGFLARE_RUNNER_TOKEN_FILE", "CREDENTIALS_DIRECTORY"];

let snapshot: Readonly<NodeJS.ProcessEnv> | undefined;
/** The snapshot is kept for the process's life (the runner program), not one turn. */
let kept = false;

/** From now on the environment is read at most once more, and that copy serves every step. */
export function keepRunnerEnv(): void {
  kept = true;
}

/** `process.env` without PRIVATE_ENV, as a plain object that callers copy and never change. */
export function runnerEnv(): Readonly<NodeJS.ProcessEnv> {
  if (snapshot === undefined) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of PRIVATE_ENV) delete env[name];
    snapshot = Object.freeze(env);
    if (kept) return snapshot;
    setImmediate(() => {
      snapshot = undefined;
    }).unref();
  }
  return snapshot;
}
