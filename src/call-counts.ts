// Call counters for capacity measurement (`npm run bench:capacity`): how many Durable Object
// calls and D1 queries the Worker makes, by binding and method, and how many storage statements
// each kind of Durable Object runs, by verb and table. Off unless the operator sets
// DAGFLARE_CALL_COUNTS=on; then the bindings handed to the app and to every Durable Object are
// wrapped so that each call is counted, each object's SQL storage counts its statements, and
// GET /metrics adds `dagflare_calls_total`. Off, the bindings and storage are the platform's
// own, untouched. The counts are those of one isolate: under
// `wrangler dev` or Miniflare the Worker and its objects share one, so they are complete; on
// Cloudflare each isolate counts its own share.
import type { Env } from "./env";

const counts = new Map<string, number>();

export function countingOn(env: Pick<Env, "DAGFLARE_CALL_COUNTS">): boolean {
  return env.DAGFLARE_CALL_COUNTS === "on";
}

/** Counts one call named `call`, when counting is on. */
export function countCall(env: Pick<Env, "DAGFLARE_CALL_COUNTS">, call: string): void {
  if (countingOn(env)) counts.set(call, (counts.get(call) ?? 0) + 1);
}

/** The counts so far, by call name, sorted. */
export function callCounts(): Array<[string, number]> {
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}

const NAMESPACES = ["RUNS", "DISPATCH", "SCHEDULES", "QUEUES", "WEBHOOKS"] as const;

/** Counting bindings -> the platform's own, so that reading the counts does not move them. */
const uncounted = new WeakMap<Env, Env>();

/** `env` with counting bindings when counting is on; `env` itself otherwise. */
export function countedEnv(env: Env): Env {
  if (!countingOn(env)) return env;
  const wrapped: Env = { ...env, DB: countedD1(env) };
  for (const name of NAMESPACES) wrapped[name] = countedNamespace(env, name) as never;
  uncounted.set(wrapped, env);
  return wrapped;
}

/** The bindings without counting (for GET /metrics itself). */
export function uncountedEnv(env: Env): Env {
  return uncounted.get(env) ?? env;
}

/** Every method call on a stub of this namespace counts as `NAME.method`. */
function countedNamespace(env: Env, name: (typeof NAMESPACES)[number]): DurableObjectNamespace {
  const ns = env[name] as unknown as DurableObjectNamespace;
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop !== "get" && prop !== "getByName") return value.bind(target);
      return (...args: unknown[]) => countedStub(env, name, Reflect.apply(value, target, args));
    },
  });
}

function countedStub(env: Env, name: string, stub: object): object {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        countCall(env, `${name}.${prop}`);
        // Reflect.apply: a stub's method is itself a stub, on which `.apply` would be an RPC call.
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/** Each statement prepared (drizzle prepares one per query) and each batch counts. */
function countedD1(env: Env): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop !== "prepare" && prop !== "batch" && prop !== "exec") return value.bind(target);
      return (...args: unknown[]) => {
        countCall(env, `DB.${prop}`);
        return Reflect.apply(value, target, args);
      };
    },
  });
}

// TypeScript's mixin pattern: the constructor takes any[].
type DurableObjectClass = new (...args: any[]) => object;

/**
 * A Durable Object class whose instances see counting bindings when counting is on, and whose
 * storage statements count as `SQL.<className>.<verb>.<table>` (`SQL.RunObject.delete.logs`).
 */
export function counted<T extends DurableObjectClass>(Base: T, className: string): T {
  return class extends Base {
    constructor(...args: any[]) {
      const [ctx, env] = args as [DurableObjectState, Env];
      if (countingOn(env)) countStatements(ctx.storage.sql, `SQL.${className}`, env);
      super(ctx, countedEnv(env));
    }
  };
}

/**
 * Counts every statement run on `sql`. The object's storage hands out this same SqlStorage to
 * every reader (its own code, drizzle's durable-sqlite driver), so wrapping its `exec` counts
 * them all.
 */
function countStatements(sql: SqlStorage, prefix: string, env: Env): void {
  // An object built again over the same storage counts each statement once.
  if (countedStorage.has(sql)) return;
  countedStorage.add(sql);
  const exec = sql.exec;
  const names = new Map<string, string>();
  sql.exec = function (this: SqlStorage, query: string, ...bindings: unknown[]) {
    let name = names.get(query);
    if (name === undefined) {
      name = `${prefix}.${statementName(query)}`;
      // Statements are mostly fixed texts; one built with varying text is named again each time.
      if (names.size < MAX_NAMED_STATEMENTS) names.set(query, name);
    }
    countCall(env, name);
    return exec.call(this, query, ...bindings);
  } as SqlStorage["exec"];
}

const countedStorage = new WeakSet<SqlStorage>();

/** Statement texts whose counter name one object remembers. */
const MAX_NAMED_STATEMENTS = 256;

/** `delete.logs` for `DELETE FROM logs WHERE ...`: the verb and the first table it names. */
export function statementName(query: string): string {
  const verb = /^\s*(\w+)/.exec(query)?.[1]?.toLowerCase() ?? "other";
  const table = /\b(?:from|into|update|table)\s+["`]?(\w+)/i.exec(query)?.[1] ?? "";
  return table ? `${verb}.${table}` : verb;
}
