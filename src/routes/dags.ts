// /dags: DAG definitions stored in D1, validated before anything is written.
import { Hono } from "hono";
import { z } from "zod";
import { DAG_NAME_PATTERN, parseDag } from "../dag/parse";
import { type DagDef, formatIssue, HANDLER_NAMES } from "../dag/types";
import {
  checkNewDagName,
  checkQueueOverride,
  createDag,
  deleteDagFile,
  loadDag,
  missingCalls,
  renameDagFile,
  setSuspended,
  updateSpec,
} from "../dags/catalogue";
import { grepSpec, searchPattern } from "../dags/search";
import { listDagPage, recentRuns } from "../db/dag-list";
import { db, latestRun, listDags, listRuns } from "../db/queries";
import type { Env } from "../env";
import { unwrap } from "../errors";
import { dagu } from "../openapi/route-docs";
import { runSnapshot, startRun } from "../run/start-run";
import { actedBy, recordRunAction } from "../run-actions";
import { RUN_STATUSES } from "../status";
import { admission, runStub } from "../stubs";
import { emptyOk } from "./empty";
import { presentDag, presentDagDetails } from "./present/dag";
import { presentDetails, presentNoRun, presentNoRunSummary } from "./present/run-details";
import { iso, pagination, presentRecentRun, presentSummaryFromRow } from "./present/run-summary";
import { abortDequeued } from "./queues";
import { json, param, pathSegment, query } from "./validate";

export const DAG_NAME = DAG_NAME_PATTERN;

/** The name a spec validated without one is given (POST /dags/validate). */
const VALIDATE_STAND_IN_NAME = "unnamed";

/**
 * The path's DAG file name. Lookups only check the pattern (not the length of a new name), so
 * that a DAG stored under a longer name before that rule can still be read, renamed and deleted.
 */
const FileNameParam = z.object({
  fileName: pathSegment(DAG_NAME, (v) => `invalid DAG name "${v}": must match ^[a-zA-Z0-9_-]+$`),
});

const PAGE = z.object({
  page: z.coerce.number().int().min(1).default(1),
  perPage: z.coerce.number().int().min(1).max(1000).default(100),
  name: z.string().optional(),
  tag: z.string().optional(),
  sort: z.enum(["name", "nextRun"]).default("name"),
  order: z.enum(["asc", "desc"]).default("asc"),
  status: z.coerce
    .number()
    .int()
    .min(0)
    .max(RUN_STATUSES.length - 1)
    .optional()
    .describe("dagflare: the latest run's status."),
});

/** The body of POST /dags/{fileName}/start and /enqueue, less what only one of them takes. */
const StartFields = z.object({
  params: z.string().optional(),
  dagRunId: z.string().optional(),
  dagName: z.string().optional(),
  context: z
    .string()
    .optional()
    .describe("dagflare: a context (GET /contexts) whose variables the run gets under the DAG's env."),
  parameterSet: z
    .string()
    .optional()
    .describe(
      "dagflare: a parameter set (GET /parameter-sets) whose params go over the DAG's defaults and under `params`.",
    ),
});

/** The DAG under the name a start call asked for (the contract's `dagName`), checked. */
function runAs(dag: DagDef, dagName: string | undefined): DagDef {
  if (dagName === undefined) return dag;
  checkNewDagName(dagName, "dagName");
  return { ...dag, name: dagName };
}

export const dags = new Hono<{ Bindings: Env }>()
  .get(
    "/",
    dagu("listDAGs", {
      description:
        "dagflare: `name` matches a part of the name in any case; `status` keeps the DAGs whose latest run has that status (a DAG without runs counts as 0, not started). Each DAG carries `nextRun` (when its schedule fires next) and `recentRuns` (its last ten runs, newest first).",
    }),
    query(PAGE),
    async (c) => {
      const q = c.req.valid("query");
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
    },
  )
  .post("/", dagu("createNewDAG"), json(z.object({ name: z.string(), spec: z.string().optional() })), async (c) => {
    const { name, spec } = c.req.valid("json");
    await createDag(c.env, name, spec);
    return c.json({ name }, 201);
  })
  .get("/tags", dagu("getAllDAGTags"), async (c) => {
    const tags = new Set<string>();
    for (const r of await listDags(db(c.env.DB))) for (const t of JSON.parse(r.tags) as string[]) tags.add(t);
    return c.json({ tags: [...tags].sort(), errors: [] as string[] });
  })
  .get("/search", dagu("searchDAGs"), query(z.object({ q: z.string().min(1, "q is required") })), async (c) => {
    const pattern = searchPattern(c.req.valid("query").q);
    const results = [];
    for (const r of await listDags(db(c.env.DB))) {
      const matches = grepSpec(r.spec, pattern);
      if (matches.length) {
        results.push({ name: r.name, dag: presentDag(JSON.parse(r.parsed ?? "null") as DagDef), matches });
      }
    }
    return c.json({ results, errors: [] as string[] });
  })
  .post(
    "/validate",
    dagu("validateDAGSpec"),
    json(z.object({ spec: z.string(), name: z.string().optional() })),
    async (c) => {
      const body = c.req.valid("json");
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
    },
  )
  .get("/:fileName", dagu("getDAGDetails"), param(FileNameParam), async (c) => {
    const { row, dag } = await loadDag(c.env, c.req.valid("param").fileName);
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
  .delete("/:fileName", dagu("deleteDAG"), param(FileNameParam), async (c) => {
    // Its runs waiting in line would run a DAG that is gone: each is stopped, so it ends aborted.
    await abortDequeued(c, await deleteDagFile(c.env, c.req.valid("param").fileName), "dequeue");
    return c.body(null, 204);
  })
  .get("/:fileName/spec", dagu("getDAGSpec"), param(FileNameParam), async (c) => {
    const { row, dag } = await loadDag(c.env, c.req.valid("param").fileName);
    return c.json({ dag: presentDagDetails(dag), spec: row.spec, errors: JSON.parse(row.errors) as string[] });
  })
  .put(
    "/:fileName/spec",
    dagu("updateDAGSpec"),
    param(FileNameParam),
    json(z.object({ spec: z.string() })),
    async (c) => {
      await updateSpec(c.env, c.req.valid("param").fileName, c.req.valid("json").spec);
      return c.json({ errors: [] as string[] });
    },
  )
  .post(
    "/:fileName/suspend",
    dagu("updateDAGSuspensionState"),
    param(FileNameParam),
    json(z.object({ suspend: z.boolean() })),
    async (c) => {
      await setSuspended(c.env, c.req.valid("param").fileName, c.req.valid("json").suspend);
      return emptyOk();
    },
  )
  .post(
    "/:fileName/rename",
    dagu("renameDAG"),
    param(FileNameParam),
    json(z.object({ newFileName: z.string() })),
    async (c) => {
      await renameDagFile(c.env, c.req.valid("param").fileName, c.req.valid("json").newFileName);
      return emptyOk();
    },
  )
  .post(
    "/:fileName/start",
    dagu("executeDAG"),
    param(FileNameParam),
    json(StartFields.extend({ singleton: z.boolean().optional() })),
    async (c) => {
      const { dag } = await loadDag(c.env, c.req.valid("param").fileName);
      const body = c.req.valid("json");
      const { runId } = await startRun(c.env, runAs(dag, body.dagName), body);
      await recordRunAction(c.env, { runId, action: "start", by: actedBy(c) });
      return c.json({ dagRunId: runId });
    },
  )
  .post(
    "/:fileName/enqueue",
    dagu("enqueueDAGDAGRun"),
    param(FileNameParam),
    json(StartFields.extend({ queue: z.string().optional() })),
    async (c) => {
      const { dag } = await loadDag(c.env, c.req.valid("param").fileName);
      const body = c.req.valid("json");
      checkQueueOverride(body.queue);
      const { runId } = await startRun(c.env, runAs(dag, body.dagName), { ...body, enqueue: true });
      await recordRunAction(c.env, { runId, action: "enqueue", by: actedBy(c) });
      return c.json({ dagRunId: runId });
    },
  )
  .post("/:fileName/stop-all", dagu("stopAllDAGRuns"), param(FileNameParam), async (c) => {
    const { dag } = await loadDag(c.env, c.req.valid("param").fileName);
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
        await recordRunAction(c.env, { runId: r.runId, action: "stop", by: actedBy(c) });
      } catch (err) {
        errors.push(`${r.runId}: ${(err as Error).message}`);
      }
    }
    return c.json({ errors });
  })
  .get("/:fileName/dag-runs", dagu("getDAGDAGRunHistory"), param(FileNameParam), async (c) => {
    const { dag } = await loadDag(c.env, c.req.valid("param").fileName);
    const rows = await listRuns(db(c.env.DB), { dagName: dag.name, limit: 30 });
    const snaps = await Promise.all(rows.map((r) => runSnapshot(c.env, r.runId, r.dagName)));
    const dagRuns = snaps.map((s) => presentDetails(s));
    // Oldest first, as a grid reads left to right.
    const oldestFirst = [...dagRuns].reverse();
    const gridData = dag.steps.map((s) => ({
      name: s.name,
      history: oldestFirst.map((r) => r.nodes.find((n) => n.step.name === s.name)?.status ?? 0),
    }));
    // Then, as Dagu, a row per handler that any of these runs' DAG defined, whether it ran or
    // not (0 where it did not), named as Dagu names it (onSuccess...).
    for (const name of Object.values(HANDLER_NAMES)) {
      const nodes = oldestFirst.map((r) => (r as Record<string, unknown>)[name] as { status: number } | undefined);
      if (nodes.some((n) => n !== undefined)) {
        gridData.push({ name, history: nodes.map((n) => n?.status ?? 0) });
      }
    }
    return c.json({ dagRuns, gridData });
  });
