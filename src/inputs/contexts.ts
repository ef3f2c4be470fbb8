// Contexts (Cyclonetix's): named variable sets, each optionally extending another. A context's
// variables are its ancestors' with its own over them; a run started with it gets them under
// the DAG's env (start-inputs.ts). Writes refuse an unknown parent, a cycle and a chain deeper
// than MAX_CONTEXT_DEPTH, so every stored context resolves; resolution checks again, because D1
// has no transactions and two writes at once could still close a loop.
import { count, eq } from "drizzle-orm";
import { z } from "zod";
import { db } from "../db/queries";
import { type ContextRow, contexts } from "../db/schema";
import { AppError } from "../errors";
import { MAX_CONTEXT_DEPTH, MAX_INPUT_SETS } from "../limits";
import { Description, entriesOf, InputName, VariableMap } from "./values";

export const ContextBody = z.object({
  description: Description,
  variables: VariableMap.describe("Variable name to value; a run gets them under the DAG's env."),
  extends: InputName.optional().describe("A context whose variables this one inherits and may override."),
});

export const ContextInfo = z.object({
  name: z.string(),
  description: z.string(),
  variables: z.record(z.string(), z.string()),
  extends: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const ContextDetails = ContextInfo.extend({
  resolved: z
    .record(z.string(), z.string())
    .describe("The variables a run started with this context gets: its ancestors' with its own over them."),
});
export const ContextList = z.object({ contexts: z.array(ContextInfo) });

type Body = z.infer<typeof ContextBody>;

export async function listContexts(d1: D1Database) {
  const rows = await db(d1).select().from(contexts).orderBy(contexts.name).all();
  return rows.map(present);
}

export async function getContext(d1: D1Database, name: string) {
  const row = await db(d1).select().from(contexts).where(eq(contexts.name, name)).get();
  if (!row) throw new AppError("not_found", 404, `context ${name} not found`);
  return { ...present(row), resolved: Object.fromEntries(await resolveContext(d1, name, "name")) };
}

export async function createContext(d1: D1Database, name: string, body: Body, now = Date.now()) {
  const d = db(d1);
  const total = await d.select({ n: count() }).from(contexts).get();
  if ((total?.n ?? 0) >= MAX_INPUT_SETS) {
    throw new AppError("bad_request", 400, `there are already ${MAX_INPUT_SETS} contexts, the limit: delete one first`);
  }
  await checkParent(d1, name, body.extends);
  const row: ContextRow = {
    name,
    description: body.description ?? "",
    variables: JSON.stringify(body.variables),
    extends: body.extends ?? null,
    createdAt: now,
    updatedAt: now,
  };
  const inserted = await d.insert(contexts).values(row).onConflictDoNothing().returning({ name: contexts.name }).all();
  if (!inserted.length) throw new AppError("already_exists", 409, `context ${name} already exists`, { field: "name" });
  return present(row);
}

export async function replaceContext(d1: D1Database, name: string, body: Body, now = Date.now()) {
  const d = db(d1);
  const old = await d.select().from(contexts).where(eq(contexts.name, name)).get();
  if (!old) throw new AppError("not_found", 404, `context ${name} not found`);
  await checkParent(d1, name, body.extends);
  const row: ContextRow = {
    ...old,
    description: body.description ?? "",
    variables: JSON.stringify(body.variables),
    extends: body.extends ?? null,
    updatedAt: now,
  };
  await d.update(contexts).set(row).where(eq(contexts.name, name)).run();
  return present(row);
}

/** Deletes a context no other context extends (their runs would lose variables silently). */
export async function deleteContext(d1: D1Database, name: string) {
  const d = db(d1);
  const children = await d.select({ name: contexts.name }).from(contexts).where(eq(contexts.extends, name)).all();
  if (children.length) {
    throw new AppError(
      "bad_request",
      409,
      `context ${name} is extended by ${children.map((c) => c.name).join(", ")}: change those first`,
    );
  }
  const gone = await d.delete(contexts).where(eq(contexts.name, name)).returning({ name: contexts.name }).all();
  if (!gone.length) throw new AppError("not_found", 404, `context ${name} not found`);
}

/**
 * The variables of context `name`, its ancestors' first and each descendant's over them, in
 * the order written. `field` names what asked for it, for the 400 when it does not exist.
 */
export async function resolveContext(d1: D1Database, name: string, field: string): Promise<Array<[string, string]>> {
  const d = db(d1);
  const chain: ContextRow[] = [];
  let next: string | null = name;
  while (next !== null) {
    if (chain.some((c) => c.name === next)) {
      throw new AppError("bad_request", 400, `context ${name}: extends forms a cycle through ${next}`, { field });
    }
    if (chain.length >= MAX_CONTEXT_DEPTH) {
      throw new AppError("bad_request", 400, `context ${name}: extends is deeper than ${MAX_CONTEXT_DEPTH}`, { field });
    }
    const row: ContextRow | undefined = await d.select().from(contexts).where(eq(contexts.name, next)).get();
    if (!row) {
      const what = chain.length ? `context ${chain.at(-1)?.name} extends ${next}, which` : `context ${next}`;
      throw new AppError("bad_request", 400, `${what} does not exist`, { field });
    }
    chain.push(row);
    next = row.extends;
  }
  const vars = new Map<string, string>();
  for (const row of chain.reverse()) for (const [k, v] of entriesOf(row.variables)) vars.set(k, v);
  return [...vars];
}

/** `parent` exists, and making `name` extend it closes no loop and stays within the depth. */
async function checkParent(d1: D1Database, name: string, parent: string | undefined) {
  if (parent === undefined) return;
  if (parent === name)
    throw new AppError("bad_request", 400, `context ${name} cannot extend itself`, { field: "extends" });
  const d = db(d1);
  let depth = 1;
  let next: string | null = parent;
  while (next !== null) {
    if (next === name) {
      throw new AppError("bad_request", 400, `extends: ${parent} already extends ${name}, a cycle`, {
        field: "extends",
      });
    }
    if (++depth > MAX_CONTEXT_DEPTH) {
      throw new AppError(
        "bad_request",
        400,
        `extends: the chain from ${name} would be deeper than ${MAX_CONTEXT_DEPTH} contexts`,
        { field: "extends" },
      );
    }
    const row: { extends: string | null } | undefined = await d
      .select({ extends: contexts.extends })
      .from(contexts)
      .where(eq(contexts.name, next))
      .get();
    if (!row) throw new AppError("bad_request", 400, `extends: context ${next} does not exist`, { field: "extends" });
    next = row.extends;
  }
}

function present(r: ContextRow): z.infer<typeof ContextInfo> {
  return {
    name: r.name,
    description: r.description,
    variables: Object.fromEntries(entriesOf(r.variables)),
    ...(r.extends !== null && { extends: r.extends }),
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}
