// The DAG catalogue's rules: what creating, updating, suspending, renaming and deleting a DAG
// checks and writes. Every check runs before the first write, so a refused call changes
// nothing; each write is one D1 statement or batch, followed by the DAG's schedule. Routes
// parse requests, call these and present the results; errors are AppErrors in the contract's
// terms.
import { DAG_NAME_MAX, DAG_NAME_PATTERN, parseDag } from "../dag/parse";
import { QUEUE_NAME } from "../dag/run-policy";
import { type DagDef, type DagIssue, formatIssue, type ParseResult } from "../dag/types";
import { db, deleteDag, getDag, insertDag, listRuns, renameDag, setDagSchedule, updateDagSpec } from "../db/queries";
import type { DagRow } from "../db/schema";
import type { Env } from "../env";
import { AppError } from "../errors";
import { syncSchedule } from "../schedule/schedule-object";
import { admission } from "../stubs";

/** The spec a DAG created without one starts with. */
export const DEFAULT_SPEC = `description: A new DAG
steps:
  - name: hello
    command: echo "hello from dagflare"
`;

/** Statuses of a run that is not over: a DAG with one cannot be renamed. */
const ACTIVE = ["running", "waiting", "queued"] as const;

/** Parses a spec or fails with 400 and every problem listed. */
export function parseOrThrow(spec: string, name?: string): { dag: DagDef; result: ParseResult } {
  const result = parseDag(spec, name ? { name } : undefined);
  if (!result.ok) {
    const errors = result.errors.map(formatIssue);
    throw new AppError("bad_request", 400, `invalid DAG spec: ${errors.join("; ")}`, { errors });
  }
  return { dag: result.dag, result };
}

/**
 * A name given to a new DAG or run (a file name, a rename, a start's dagName): the rule of a
 * spec's `name`, length included. Lookups only check the pattern, so that a DAG stored under a
 * longer name before this rule can still be read, renamed and deleted.
 */
export function checkNewDagName(name: string, field: string): void {
  if (!DAG_NAME_PATTERN.test(name) || name.length > DAG_NAME_MAX) {
    throw new AppError(
      "bad_request",
      400,
      `invalid DAG name "${name}": use letters, digits, _ and - (at most ${DAG_NAME_MAX} characters)`,
      { field },
    );
  }
}

/** A queue given in a request: the same names a DAG's `queue` takes. */
export function checkQueueOverride(queue: string | undefined): void {
  if (queue !== undefined && !QUEUE_NAME.test(queue)) {
    throw new AppError("bad_request", 400, `invalid queue name "${queue}": use letters, digits, _ and - (at most 64)`, {
      field: "queue",
    });
  }
}

const notFound = (fileName: string) => new AppError("not_found", 404, `DAG ${fileName} not found`);

/** A stored DAG with its parsed definition, or 404. */
export async function loadDag(env: Env, fileName: string): Promise<{ row: DagRow; dag: DagDef }> {
  const row = await getDag(db(env.DB), fileName);
  if (!row) throw notFound(fileName);
  return { row, dag: JSON.parse(row.parsed ?? "null") as DagDef };
}

/** Stores a new DAG (the default spec without one) and arms its schedule; 409 if the name is taken. */
export async function createDag(env: Env, name: string, spec = DEFAULT_SPEC): Promise<DagDef> {
  checkNewDagName(name, "name");
  const { dag } = parseOrThrow(spec, name);
  const now = Date.now();
  const inserted = await insertDag(db(env.DB), {
    name,
    spec,
    parsed: JSON.stringify(dag),
    tags: JSON.stringify(dag.tags),
    errors: "[]",
    createdAt: now,
    updatedAt: now,
  });
  if (!inserted) throw new AppError("already_exists", 409, `DAG ${name} already exists`);
  await syncSchedule(env, name, dag, false);
  return dag;
}

/** Replaces a DAG's spec, only with a valid one; its schedule follows, suspended or not as it was. */
export async function updateSpec(env: Env, fileName: string, spec: string): Promise<DagDef> {
  await loadDag(env, fileName);
  const { dag } = parseOrThrow(spec, fileName);
  const d = db(env.DB);
  const updated = await updateDagSpec(d, fileName, {
    spec,
    parsed: JSON.stringify(dag),
    tags: JSON.stringify(dag.tags),
    errors: "[]",
    updatedAt: Date.now(),
  });
  if (!updated) throw notFound(fileName);
  // Read again after the write: a suspend that landed meanwhile is kept.
  await syncSchedule(env, fileName, dag, (await getDag(d, fileName))?.suspended ?? false);
  return dag;
}

/** Stops or resumes a DAG's schedule (its runs are not touched). */
export async function setSuspended(env: Env, fileName: string, suspended: boolean): Promise<void> {
  const { dag } = await loadDag(env, fileName);
  if (!(await setDagSchedule(db(env.DB), fileName, { suspended }))) throw notFound(fileName);
  await syncSchedule(env, fileName, dag, suspended);
}

/**
 * Moves a DAG, with the history of its runs, to a new file name. Refused while a run of it is
 * active (it reports under the old name) and when the new name is taken; the move itself is one
 * D1 batch, so it happens whole or not at all.
 */
export async function renameDagFile(env: Env, fileName: string, newFileName: string): Promise<DagDef> {
  const { row, dag } = await loadDag(env, fileName);
  checkNewDagName(newFileName, "newFileName");
  const d = db(env.DB);
  const active = await listRuns(d, { dagName: dag.name, statuses: [...ACTIVE], limit: 1 });
  if (active.length) {
    throw new AppError("bad_request", 400, `DAG ${fileName} has an active run (${active[0]?.runId}); stop it first`);
  }
  // A spec without its own `name` is named after its file, and so are its runs.
  const { dag: renamed } = parseOrThrow(row.spec, newFileName);
  const moved = await renameDag(
    d,
    fileName,
    newFileName,
    { parsed: JSON.stringify(renamed), updatedAt: Date.now() },
    renamed.name !== dag.name ? { from: dag.name, to: renamed.name } : undefined,
  );
  if (!moved) throw new AppError("already_exists", 409, `DAG ${newFileName} already exists`);
  await syncSchedule(env, fileName, null, false);
  await syncSchedule(env, newFileName, renamed, row.suspended);
  return renamed;
}

/**
 * Deletes a DAG and its schedule, and takes its runs waiting in line out of their queue: they
 * would run a DAG that is gone. Returns those runs' ids; the caller stops them, so each ends
 * aborted. Running runs finish.
 */
export async function deleteDagFile(env: Env, fileName: string): Promise<string[]> {
  const d = db(env.DB);
  if (!(await deleteDag(d, fileName))) throw notFound(fileName);
  await syncSchedule(env, fileName, null, false);
  const queued = await listRuns(d, { dagName: fileName, statuses: ["queued"], limit: 10_000 });
  return admission(env).purgeRuns(queued.map((r) => r.runId));
}

/**
 * Calls to a DAG that is neither one of the file's nor stored: a warning, since it may be stored
 * before the step runs (the step fails if it still is not).
 */
export async function missingCalls(env: Env, dag: DagDef): Promise<DagIssue[]> {
  const local = new Set([dag.name, ...(dag.localDags ?? []).map((l) => l.name)]);
  const calls = [dag, ...(dag.localDags ?? [])].flatMap((d) =>
    d.steps.flatMap((s) =>
      s.call && !local.has(s.call.dag)
        ? [{ where: d === dag ? "" : `localDags[${d.name}].`, s, called: s.call.dag }]
        : [],
    ),
  );
  // One lookup per called DAG: the instances of a parallel call all name the same one.
  const names = [...new Set(calls.map((c) => c.called))];
  const stored = new Set(
    (await Promise.all(names.map((n) => getDag(db(env.DB), n)))).flatMap((r) => (r ? [r.name] : [])),
  );
  return calls
    .filter((c) => !stored.has(c.called))
    .map((c) => ({
      field: `${c.where}steps.${c.s.name}.call`,
      message: `DAG ${c.called} does not exist (yet); the step fails if it does not when it runs`,
    }));
}
