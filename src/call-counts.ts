// Call counters for capacity measurement (`npm run bench:capacity`): how many Durable Object
// calls and D1 queries the Worker makes, by binding and method. Off unless the operator sets
// DAGFLARE_CALL_COUNTS=on; then the bindings handed to the app and to every Durable Object are
// wrapped so that each call is counted, and GET /metrics adds `dagflare_calls_total`. Off, the
// bindings are the platform's own, untouched. The counts are those of one isolate: under
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

/** A Durable Object class whose instances see counting bindings when counting is on. */
export function counted<T extends DurableObjectClass>(Base: T): T {
  return class extends Base {
    constructor(...args: any[]) {
      super(args[0] as DurableObjectState, countedEnv(args[1] as Env));
    }
  };
}
