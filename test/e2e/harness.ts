// The end-to-end harness: a real `wrangler dev` and real runner processes on this machine.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { applyMigrations, buildRunner, startRunner, startWorker, stopGroup } from "../../scripts/stack.mjs";

export const USER_TOKEN = "e2e-user-token";
export const RUNNER_TOKEN = "e2e-runner-token";

/**
 * A free port below the kernel's ephemeral range (32768 and up on Linux). A port the kernel
 * handed out could be handed out again, to another test's workerd, between this probe and
 * `wrangler dev` binding it; a port below that range is only ever taken by asking for it.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error("no free port between 20000 and 32000 on 127.0.0.1");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `dagflare-${prefix}-`));
}

export interface Stack {
  url: string;
  stateDir: string;
  runners: Map<string, ReturnType<typeof startRunner>>;
  addRunner(id: string, concurrency?: number): void;
  /** Stops `wrangler dev` and starts it again on the same port and the same local state. */
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export async function startStack(opts: {
  runners: string[];
  leaseTtlMs?: number;
  /** More of the Worker's variables. */
  vars?: Record<string, string>;
}): Promise<Stack> {
  const stateDir = tempDir("state");
  buildRunner();
  applyMigrations(stateDir);
  const port = await freePort();
  const launch = () =>
    startWorker({
      port,
      persistTo: stateDir,
      vars: {
        DAGFLARE_AUTH: "required",
        DAGFLARE_API_TOKEN: USER_TOKEN,
        DAGFLARE_RUNNER_TOKEN: RUNNER_TOKEN,
        DAGFLARE_SESSION_SECRET: "e2e-session-secret-of-at-least-32-characters",
        LEASE_TTL_MS: String(opts.leaseTtlMs ?? 3_000),
        ...opts.vars,
      },
    });
  let worker = await launch();
  const runners = new Map<string, ReturnType<typeof startRunner>>();
  const addRunner = (id: string, concurrency = 2) => {
    runners.set(id, startRunner({ server: worker.url, token: RUNNER_TOKEN, concurrency, id }));
  };
  for (const id of opts.runners) addRunner(id);
  return {
    url: worker.url,
    stateDir,
    runners,
    addRunner,
    async restartWorker() {
      await worker.stop();
      worker = await launch();
    },
    async stop() {
      for (const r of runners.values()) r.child.kill("SIGKILL");
      await worker.stop();
    },
    async api(method, p, body) {
      const res = await fetch(`${worker.url}/api/v2${p}`, {
        method,
        headers: { authorization: `Bearer ${USER_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export { stopGroup };

/** The statuses a run ends in. */
export const TERMINAL = new Set(["succeeded", "failed", "aborted", "partially_succeeded", "rejected"]);

/** Creates DAG `name` from `spec` and starts it; returns the run id. */
export async function startDagRun(stack: Stack, name: string, spec: string, params?: string): Promise<string> {
  const created = await stack.api("POST", "/dags", { name, spec });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const started = await stack.api("POST", `/dags/${name}/start`, params === undefined ? {} : { params });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  return started.body.dagRunId as string;
}

/** Waits until the run has ended; returns its details. */
export function runEnded(stack: Stack, name: string, runId: string, timeoutMs?: number): Promise<any> {
  return waitFor(
    `${name} run ${runId} to finish`,
    async () => {
      const r = await stack.api("GET", `/dag-runs/${name}/${runId}`);
      return TERMINAL.has(r.body.dagRunDetails.statusLabel) ? r.body.dagRunDetails : undefined;
    },
    timeoutMs,
  );
}

/** The text of one stream of a step's log (the latest attempt). */
export async function stepLogText(stack: Stack, name: string, runId: string, step: string, stream = "stdout") {
  const r = await stack.api("GET", `/dag-runs/${name}/${runId}/steps/${encodeURIComponent(step)}/log?stream=${stream}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.content as string;
}
