// /dags: DAG definitions stored in D1, validated before anything is written.
import { Hono } from "hono";
import { z } from "zod";
import { DAG_NAME_MAX, DAG_NAME_PATTERN, parseDag } from "../dag/parse";
import { QUEUE_NAME } from "../dag/run-policy";
import { type DagDef, type DagIssue, formatIssue, HANDLER_NAMES, type ParseResult } from "../dag/types";
import { listDagPage, recentRuns } from "../db/dag-list";
import {
  db,
  deleteDag,
  getDag,
  insertDag,
  latestRun,
  listDags,
  listRuns,
  renameDag,
  setDagSchedule,
  updateDagSpec,
} from "../db/queries";
import type { DagRow } from "../db/schema";
import type { Env } from "../env";
import { AppError, unwrap } from "../errors";
import { runSnapshot, startRun } from "../run/start-run";
import { syncSchedule } from "../schedule/schedule-object";
import { RUN_STATUSES } from "../status";
import { admission, runStub } from "../stubs";
import { emptyOk } from "./empty";
import {
  iso,
  pagination,
  presentDag,
  presentDagDetails,
  presentDetails,
  presentNoRun,
  presentNoRunSummary,
  presentRecentRun,
  presentSummaryFromRow,
} from "./present";
import { abortDequeued } from "./queues";
import { readJson, readQuery } from "./validate";

export const DAG_NAME = DAG_NAME_PATTERN;

/** The name a spec validated without one is given (POST /dags/validate). */
const VALIDATE_STAND_IN_NAME = "unnamed";

const DEFAULT_SPEC = `description: A new DAG
steps:
  - name: hello
    command: echo "hello from dagflare"
`;

/** Parses a spec or fails with 400 and every problem listed. */
export function parseOrThrow(spec: string, name?: string): { dag: DagDef; result: ParseResult } {
  const result = parseDag(spec, name ? { name } : undefined);
  if (!result.ok) {
    const errors = result.errors.map(formatIssue);
    throw new AppError("bad_request", 400, `invalid DAG spec: ${errors.join("; ")}`, { errors });
  }
  return { dag: result.dag, result };
}

function checkFileName(name: string): void {
  if (!DAG_NAME.test(name)) {
    throw new AppError("bad_request", 400, `invalid DAG name "${name}": must match ^[a-zA-Z0-9_-]+$`, {
      field: "fileName",
    });
  }
}

/**
 * A name given to a new DAG or run (a file name, a rename, a start's dagName): the rule of a
 * spec's `name`, length included. Lookups only check the pattern, so that a DAG stored under a
 * longer name before this rule can still be read, renamed and deleted.
 */
export function checkNewDagName(name: string, field: string): void {
  if (!DAG_NAME.test(name) || name.length > DAG_NAME_MAX) {
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

async function loadDag(env: Env, fileName: string): Promise<{ row: DagRow; dag: DagDef }> {
  checkFileName(fileName);
  const row = await getDag(db(env.DB), fileName);
  if (!row) throw new AppError("not_found", 404, `DAG ${fileName} not found`);
  return { row, dag: JSON.parse(row.parsed ?? "null") as DagDef };
}

/**
 * Calls to a DAG that is neither one of the file's nor stored: a warning, since it may be stored
 * before the step runs (the step fails if it still is not).
 */
async function missingCalls(env: Env, dag: DagDef): Promise<DagIssue[]> {
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

/** Lines of context before and after a search match (the contract's startLine counts from the first). */
const SEARCH_CONTEXT_LINES = 2;

const PAGE = z.object({
  page: z.coerce.number().int().min(1).default(1),
  perPage: z.coerce.number().int().min(1).max(1000).default(100),
  name: z.string().optional(),
  tag: z.string().optional(),
  sort: z.enum(["name", "nextRun"]).default("name"),
  order: z.enum(["asc", "desc"]).default("asc"),
  /** dagflare's addition: the latest run's status, as the contract's numeric Status. */
  status: z.coerce
    .number()
    .int()
    .min(0)
    .max(RUN_STATUSES.length - 1)
    .optional(),
});

/** The body of POST /dags/{fileName}/start and /enqueue, less what only one of them takes. */
const StartFields = z.object({
  params: z.string().optional(),
  dagRunId: z.string().optional(),
  dagName: z.string().optional(),
});

/** The DAG under the name a start call asked for (the contract's `dagName`), checked. */
function runAs(dag: DagDef, dagName: string | undefined): DagDef {
  if (dagName === undefined) return dag;
  checkNewDagName(dagName, "dagName");
  return { ...dag, name: dagName };
}

export const dags = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => {
    const q = readQuery(c, PAGE);
    const d = db(c.env.DB);
    const { rows, total } = await listDagPage(d, {
      nameContains: q.name || undefined,
      tag: q.tag || undefined,
      latestStatus: q.status === undefined ? undefined : RUN_STATUSES[q.status],
      sort: q.sort,
      order: q.order,
      page: q.page,
      perPage: q.perPage,
    });
    const recent = await recentRuns(
      d,
      rows.map((r) => r.name),
    );
    const items = rows.map((r) => {
      const dag = JSON.parse(r.parsed ?? "null") as DagDef;
      const runs = recent.get(r.name) ?? [];
      const latest = runs[0];
      return {
        fileName: r.name,
        dag: presentDag(dag),
        latestDAGRun: latest ? presentSummaryFromRow(latest) : presentNoRunSummary(dag),
        suspended: r.suspended,
        errors: JSON.parse(r.errors) as string[],
        // dagflare's addition: when the schedule fires next (RFC 3339), absent when it does not.
        ...(r.nextRunAt !== null && { nextRun: iso(r.nextRunAt) }),
        // dagflare's addition: the last runs' statuses, newest first, for a strip in a list.
        recentRuns: runs.map(presentRecentRun),
      };
    });
    return c.json({ dags: items, errors: [], pagination: pagination(total, q.page, q.perPage) });
  })
  .post("/", async (c) => {
    const body = await readJson(c, z.object({ name: z.string(), spec: z.string().optional() }));
    checkNewDagName(body.name, "name");
    const spec = body.spec ?? DEFAULT_SPEC;
    const { dag } = parseOrThrow(spec, body.name);
    const now = Date.now();
    const inserted = await insertDag(db(c.env.DB), {
      name: body.name,
      spec,
      parsed: JSON.stringify(dag),
      tags: JSON.stringify(dag.tags),
      errors: "[]",
      createdAt: now,
      updatedAt: now,
    });
    if (!inserted) throw new AppError("already_exists", 409, `DAG ${body.name} already exists`);
    await syncSchedule(c.env, body.name, dag, false);
    return c.json({ name: body.name }, 201);
  })
  .get("/tags", async (c) => {
    const tags = new Set<string>();
    for (const r of await listDags(db(c.env.DB))) for (const t of JSON.parse(r.tags) as string[]) tags.add(t);
    return c.json({ tags: [...tags].sort(), errors: [] as string[] });
  })
  .get("/search", async (c) => {
    const { q } = readQuery(c, z.object({ q: z.string().min(1, "q is required") }));
    const needle = q.toLowerCase();
    const results = [];
    for (const r of await listDags(db(c.env.DB))) {
      // Each match carries, as Dagu's, the matching line with up to two lines before and after it.
      const lines = r.spec.split("\n");
      const matches = lines.flatMap((line, i) => {
        if (!line.toLowerCase().includes(needle)) return [];
        const start = Math.max(0, i - SEARCH_CONTEXT_LINES);
        const end = Math.min(lines.length, i + 1 + SEARCH_CONTEXT_LINES);
        return [{ line: lines.slice(start, end).join("\n"), lineNumber: i + 1, startLine: start + 1 }];
      });
      if (matches.length) {
        results.push({ name: r.name, dag: presentDag(JSON.parse(r.parsed ?? "null") as DagDef), matches });
      }
    }
    return c.json({ results, errors: [] as string[] });
  })
  .post("/validate", async (c) => {
    const body = await readJson(c, z.object({ spec: z.string(), name: z.string().optional() }));
    // As Dagu does, a spec is validated without a name (only storing it needs one): the name of
    // the request, else the spec's own, else a stand-in.
    const result = parseDag(body.spec, { name: body.name || VALIDATE_STAND_IN_NAME });
    const missing = result.ok ? await missingCalls(c.env, result.dag) : [];
    return c.json({
      valid: result.ok,
      errors: result.ok ? [] : result.errors.map(formatIssue),
      warnings: [...result.warnings, ...missing].map(formatIssue),
      ...(result.ok && { dag: presentDagDetails(result.dag) }),
    });
  })
  .get("/:fileName", async (c) => {
    const { row, dag } = await loadDag(c.env, c.req.param("fileName"));
    const latest = await latestRun(db(c.env.DB), dag.name);
    const latestDetails = latest ? await runSnapshot(c.env, latest.runId, latest.dagName) : undefined;
    return c.json({
      dag: presentDagDetails(dag),
      // The file's DAGs after `---`; a file with errors is not stored, so none has errors here.
      localDags: (dag.localDags ?? []).map((l) => ({ name: l.name, dag: presentDagDetails(l), errors: [] })),
      latestDAGRun: latestDetails ? presentDetails(latestDetails) : presentNoRun(dag),
      suspended: row.suspended,
      errors: [],
      ...(row.nextRunAt !== null && { nextRun: iso(row.nextRunAt) }),
    });
  })
  .delete("/:fileName", async (c) => {
    const fileName = c.req.param("fileName");
    checkFileName(fileName);
    const d = db(c.env.DB);
    if (!(await deleteDag(d, fileName))) throw new AppError("not_found", 404, `DAG ${fileName} not found`);
    await syncSchedule(c.env, fileName, null, false);
    // Its runs waiting in line would run a DAG that is gone: they end aborted. Running runs finish.
    const queued = await listRuns(d, { dagName: fileName, statuses: ["queued"], limit: 10_000 });
    await abortDequeued(c.env, await admission(c.env).purgeRuns(queued.map((r) => r.runId)));
    return c.body(null, 204);
  })
  .get("/:fileName/spec", async (c) => {
    const { row, dag } = await loadDag(c.env, c.req.param("fileName"));
    return c.json({ dag: presentDagDetails(dag), spec: row.spec, errors: JSON.parse(row.errors) as string[] });
  })
  .put("/:fileName/spec", async (c) => {
    const fileName = c.req.param("fileName");
    await loadDag(c.env, fileName);
    const body = await readJson(c, z.object({ spec: z.string() }));
    const { dag } = parseOrThrow(body.spec, fileName);
    const d = db(c.env.DB);
    const updated = await updateDagSpec(d, fileName, {
      spec: body.spec,
      parsed: JSON.stringify(dag),
      tags: JSON.stringify(dag.tags),
      errors: "[]",
      updatedAt: Date.now(),
    });
    if (!updated) throw new AppError("not_found", 404, `DAG ${fileName} not found`);
    await syncSchedule(c.env, fileName, dag, (await getDag(d, fileName))?.suspended ?? false);
    return c.json({ errors: [] as string[] });
  })
  .post("/:fileName/suspend", async (c) => {
    const fileName = c.req.param("fileName");
    const { dag } = await loadDag(c.env, fileName);
    const { suspend } = await readJson(c, z.object({ suspend: z.boolean() }));
    if (!(await setDagSchedule(db(c.env.DB), fileName, { suspended: suspend }))) {
      throw new AppError("not_found", 404, `DAG ${fileName} not found`);
    }
    await syncSchedule(c.env, fileName, dag, suspend);
    return emptyOk();
  })
  .post("/:fileName/rename", async (c) => {
    const fileName = c.req.param("fileName");
    const { row, dag } = await loadDag(c.env, fileName);
    const { newFileName } = await readJson(c, z.object({ newFileName: z.string() }));
    checkNewDagName(newFileName, "newFileName");
    const d = db(c.env.DB);
    const active = await listRuns(d, { dagName: dag.name, statuses: ["running", "waiting", "queued"], limit: 1 });
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
    await syncSchedule(c.env, fileName, null, false);
    await syncSchedule(c.env, newFileName, renamed, row.suspended);
    return emptyOk();
  })
  .post("/:fileName/start", async (c) => {
    const { dag } = await loadDag(c.env, c.req.param("fileName"));
    const body = await readJson(c, StartFields.extend({ singleton: z.boolean().optional() }));
    const { runId } = await startRun(c.env, runAs(dag, body.dagName), body);
    return c.json({ dagRunId: runId });
  })
  .post("/:fileName/enqueue", async (c) => {
    const { dag } = await loadDag(c.env, c.req.param("fileName"));
    const body = await readJson(c, StartFields.extend({ queue: z.string().optional() }));
    checkQueueOverride(body.queue);
    const { runId } = await startRun(c.env, runAs(dag, body.dagName), { ...body, enqueue: true });
    return c.json({ dagRunId: runId });
  })
  .post("/:fileName/stop-all", async (c) => {
    const { dag } = await loadDag(c.env, c.req.param("fileName"));
    const rows = await listRuns(db(c.env.DB), {
      dagName: dag.name,
      statuses: ["running", "waiting", "queued"],
      limit: 1000,
    });
    // Waiting runs leave the line first, so that stopping a running one admits none of them.
    await admission(c.env).purgeRuns(rows.filter((r) => r.status === "queued").map((r) => r.runId));
    const errors: string[] = [];
    for (const r of rows) {
      try {
        unwrap(await runStub(c.env, r.runId).stop());
      } catch (err) {
        errors.push(`${r.runId}: ${(err as Error).message}`);
      }
    }
    return c.json({ errors });
  })
  .get("/:fileName/dag-runs", async (c) => {
    const { dag } = await loadDag(c.env, c.req.param("fileName"));
    const rows = await listRuns(db(c.env.DB), { dagName: dag.name, limit: 30 });
    const snaps = await Promise.all(rows.map((r) => runSnapshot(c.env, r.runId, r.dagName)));
    const dagRuns = snaps.map((s) => presentDetails(s));
    // Oldest first, as a grid reads left to right.
    const oldestFirst = [...dagRuns].reverse();
    const gridData = dag.steps.map((s) => ({
      name: s.name,
      history: oldestFirst.map((r) => r.nodes.find((n) => n.step.name === s.name)?.status ?? 0),
    }));
    // Then a row per handler that ran in any of these runs, named as Dagu names it (onSuccess...).
    for (const name of Object.values(HANDLER_NAMES)) {
      const nodes = oldestFirst.map((r) => (r as Record<string, unknown>)[name] as { status: number } | undefined);
      if (nodes.some((n) => n !== undefined && n.status !== 0)) {
        gridData.push({ name, history: nodes.map((n) => n?.status ?? 0) });
      }
    }
    return c.json({ dagRuns, gridData });
  });
