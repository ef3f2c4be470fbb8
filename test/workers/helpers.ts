// Calls the Worker in-process (no server) and checks every response against the contract.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { z } from "zod";
import { runStub } from "../../src/stubs";
import { apiContract } from "../support/contract-document";

export const USER_TOKEN = "test-user-token";
export const RUNNER_TOKEN = "test-runner-token";
const contract = apiContract();

export interface Reply<T = any> {
  status: number;
  body: T;
}

async function call(method: string, path: string, body: unknown, token: string | null): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await exports.default.fetch(`http://dagflare.test${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A user API call; its response must match the contract for that operation and status. */
export async function api<T = any>(method: string, path: string, body?: unknown, token: string | null = USER_TOKEN) {
  const r = await call(method, `/api/v2${path}`, body, token);
  contract.assert(method, `/api/v2${path}`, r.status, r.body);
  return r as Reply<T>;
}

/**
 * A call to one of dagflare's additions (not in the Dagu contract): a success must parse with
 * the endpoint's own schema (the one its OpenAPI document is built from), an error must have
 * the flat error shape.
 */
export async function extApi<T = any>(
  method: string,
  path: string,
  body: unknown,
  schema: z.core.$ZodType,
  token: string | null = USER_TOKEN,
) {
  const r = await call(method, `/api/v2${path}`, body, token);
  if (r.status < 400) z.parse(schema, r.body);
  else expect(r.body).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  return r as Reply<T>;
}

/** A runner protocol call (not in the Dagu contract: checked by the runner's own zod schemas). */
export async function runnerApi<T = any>(path: string, body: unknown, token: string | null = RUNNER_TOKEN) {
  const r = await call("POST", `/api/v2/runners${path}`, body, token);
  if (r.status >= 400) expect(r.body).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  return r as Reply<T>;
}

export async function createDag(name: string, spec: string) {
  const r = await api("POST", "/dags", { name, spec });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

export async function startDag(name: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await api("POST", `/dags/${name}/start`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.dagRunId as string;
}

export async function details(name: string, runId: string) {
  const r = await api("GET", `/dag-runs/${name}/${runId}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.dagRunDetails;
}

/** The node of a step, or of an instance of a parallel step (listed under its step's node). */
export function nodeOf(d: { nodes: Array<{ step: { name: string } }> }, step: string): any {
  const all = d.nodes.flatMap((x: { step: { name: string }; instances?: Array<{ step: { name: string } }> }) => [
    x,
    ...(x.instances ?? []),
  ]);
  const n = all.find((x) => x.step.name === step);
  if (!n) throw new Error(`no node ${step}`);
  return n;
}

export async function lease(max = 1, runnerId = "runner-test") {
  const r = await runnerApi<{ leases: any[] }>("/lease", { runnerId, max, waitMs: 0 });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.leases;
}

export async function complete(
  l: { leaseId: string; token: string },
  exitCode: number,
  extra: Record<string, unknown> = {},
) {
  return runnerApi(`/leases/${l.leaseId}/complete`, { token: l.token, exitCode, ...extra });
}

/**
 * Advances a run to its next timer: fires its alarm until one firing changes the run. (The
 * alarm may be armed earlier than the next timer; such a firing only re-arms it.) Resolves
 * false when the alarm ran out before anything changed.
 */
export async function fireRunAlarm(runId: string): Promise<boolean> {
  const stub = runStub(env, runId);
  const state = async () => JSON.stringify(await stub.snapshot());
  for (let i = 0; i < 5; i++) {
    const before = await state();
    if (!(await runDurableObjectAlarm(stub))) return false;
    if ((await state()) !== before) return true;
  }
  throw new Error(`run ${runId}: five alarms fired and none changed the run`);
}

/**
 * How many times each call (`QUEUES.submit`, `DB.prepare`, ...) was made so far, from GET
 * /metrics (the Workers tests run with DAGFLARE_CALL_COUNTS=on). Read before and after a
 * behaviour: the difference is what it cost.
 */
export async function callCounts(): Promise<(call: string) => number> {
  const res = await exports.default.fetch("http://dagflare.test/api/v2/metrics", {
    headers: { authorization: `Bearer ${USER_TOKEN}` },
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return (name: string) =>
    Number(new RegExp(`^dagflare_calls_total\\{call="${name}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
}
