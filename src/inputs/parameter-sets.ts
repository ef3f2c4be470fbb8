// Parameter sets (Cyclonetix's): named params a run can be started with. A start's own params
// win over the set's, and the set's over the DAG's defaults (start-inputs.ts).
import { count, eq } from "drizzle-orm";
import { z } from "zod";
import { db } from "../db/queries";
import { type ParameterSetRow, parameterSets } from "../db/schema";
import { AppError } from "../errors";
import { MAX_INPUT_SETS } from "../limits";
import { Description, entriesOf, VariableMap } from "./values";

export const ParameterSetBody = z.object({
  description: Description,
  params: VariableMap.describe("Param name to value; a start's own params win over these."),
});

export const ParameterSetInfo = z.object({
  name: z.string(),
  description: z.string(),
  params: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const ParameterSetList = z.object({ parameterSets: z.array(ParameterSetInfo) });

type Body = z.infer<typeof ParameterSetBody>;

export async function listParameterSets(d1: D1Database) {
  const rows = await db(d1).select().from(parameterSets).orderBy(parameterSets.name).all();
  return rows.map(present);
}

export async function getParameterSet(d1: D1Database, name: string) {
  return present(await rowOf(d1, name, () => new AppError("not_found", 404, `parameter set ${name} not found`)));
}

/** A set's params for a start; `field` names what asked for it, for the 400 when it does not exist. */
export async function parameterSetParams(d1: D1Database, name: string, field: string) {
  const row = await rowOf(
    d1,
    name,
    () => new AppError("bad_request", 400, `parameter set ${name} does not exist`, { field }),
  );
  return entriesOf(row.params);
}

export async function createParameterSet(d1: D1Database, name: string, body: Body, now = Date.now()) {
  const d = db(d1);
  const total = await d.select({ n: count() }).from(parameterSets).get();
  if ((total?.n ?? 0) >= MAX_INPUT_SETS) {
    throw new AppError(
      "bad_request",
      400,
      `there are already ${MAX_INPUT_SETS} parameter sets, the limit: delete one first`,
    );
  }
  const row: ParameterSetRow = {
    name,
    description: body.description ?? "",
    params: JSON.stringify(body.params),
    createdAt: now,
    updatedAt: now,
  };
  const inserted = await d
    .insert(parameterSets)
    .values(row)
    .onConflictDoNothing()
    .returning({ name: parameterSets.name })
    .all();
  if (!inserted.length) {
    throw new AppError("already_exists", 409, `parameter set ${name} already exists`, { field: "name" });
  }
  return present(row);
}

export async function replaceParameterSet(d1: D1Database, name: string, body: Body, now = Date.now()) {
  const old = await rowOf(d1, name, () => new AppError("not_found", 404, `parameter set ${name} not found`));
  const row: ParameterSetRow = {
    ...old,
    description: body.description ?? "",
    params: JSON.stringify(body.params),
    updatedAt: now,
  };
  await db(d1).update(parameterSets).set(row).where(eq(parameterSets.name, name)).run();
  return present(row);
}

export async function deleteParameterSet(d1: D1Database, name: string) {
  const gone = await db(d1)
    .delete(parameterSets)
    .where(eq(parameterSets.name, name))
    .returning({ name: parameterSets.name })
    .all();
  if (!gone.length) throw new AppError("not_found", 404, `parameter set ${name} not found`);
}

async function rowOf(d1: D1Database, name: string, missing: () => AppError): Promise<ParameterSetRow> {
  const row = await db(d1).select().from(parameterSets).where(eq(parameterSets.name, name)).get();
  if (!row) throw missing();
  return row;
}

function present(r: ParameterSetRow): z.infer<typeof ParameterSetInfo> {
  return {
    name: r.name,
    description: r.description,
    params: Object.fromEntries(entriesOf(r.params)),
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}
