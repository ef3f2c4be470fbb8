// Runs the Worker on workerd through Miniflare's API, without wrangler dev's proxy in front.
// The same bundle wrangler deploys (`wrangler deploy --dry-run`), the same bindings as
// wrangler.toml: local D1 and SQLite-backed Durable Objects. The benchmark uses it to measure
// dagflare rather than the dev proxy (`npm run bench -- --direct`); `npm start` and the tests
// keep using wrangler dev.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BIN, ROOT, toolEnv } from "./stack.mjs";

/** Bundles src/ the way `wrangler deploy` would and returns the bundle's path. */
function bundleWorker() {
  const outdir = mkdtempSync(path.join(tmpdir(), "dagflare-bundle-"));
  const res = spawnSync(path.join(BIN, "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
    env: toolEnv(),
    encoding: "utf8",
  });
  if (res.status !== 0) throw new Error(`bundling the Worker failed:\n${res.stdout}\n${res.stderr}`);
  return path.join(outdir, "index.js");
}

/** Reads compatibility settings and vars from wrangler.toml (flat keys only; enough here). */
function readWranglerToml() {
  const text = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const value = (key) => text.match(new RegExp(`^${key}\\s*=\\s*(.+)$`, "m"))?.[1];
  return {
    compatibilityDate: JSON.parse(value("compatibility_date")),
    compatibilityFlags: JSON.parse(value("compatibility_flags") ?? "[]"),
    leaseTtlMs: JSON.parse(value("LEASE_TTL_MS") ?? '"15000"'),
    // Every Durable Object binding, so that the Worker here has what it has under wrangler dev.
    durableObjects: Object.fromEntries(
      [...text.matchAll(/\[\[durable_objects\.bindings\]\]\s*name\s*=\s*"(\w+)"\s*class_name\s*=\s*"(\w+)"/g)].map(
        ([, name, className]) => [name, { className, useSQLite: true }],
      ),
    ),
  };
}

async function applyMigrations(mf) {
  const db = await mf.getD1Database("DB");
  const dir = path.join(ROOT, "migrations");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const sql = readFileSync(path.join(dir, file), "utf8");
    for (const statement of sql.split("--> statement-breakpoint")) {
      if (statement.trim()) await db.prepare(statement).run();
    }
  }
}

/**
 * Starts the Worker on workerd and resolves once /api/v2/health answers. The state lives in
 * `persistTo` (a fresh temporary folder when omitted); migrations are applied to it. With
 * `inspectorPort`, workerd's V8 inspector listens there (`npm run bench:profile` reads CPU
 * profiles through it).
 * @param {{ port: number, persistTo?: string, vars?: Record<string,string>, inspectorPort?: number, log?: (line: string) => void }} opts
 */
export async function startDirectWorker(opts) {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const toml = readWranglerToml();
  const bundle = bundleWorker();
  const persistTo = opts.persistTo ?? mkdtempSync(path.join(tmpdir(), "dagflare-direct-"));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: opts.port,
      ...(opts.inspectorPort && { inspectorPort: opts.inspectorPort }),
      rootPath: ROOT,
      resourcePersistencePath: persistTo,
      name: "dagflare",
      // Module names are relative to modulesRoot, and workerd refuses names that climb out of it.
      // Beside the bundle, the Durable Objects' storage migrations, which wrangler.toml's
      // [[rules]] leave as text modules.
      modules: [
        { type: "ESModule", path: bundle },
        ...readdirSync(path.dirname(bundle))
          .filter((f) => f.endsWith(".sql"))
          .map((f) => ({ type: "Text", path: path.join(path.dirname(bundle), f) })),
      ],
      modulesRoot: path.dirname(bundle),
      compatibilityDate: toml.compatibilityDate,
      compatibilityFlags: toml.compatibilityFlags,
      bindings: { DAGFLARE_AUTH: "required", LEASE_TTL_MS: toml.leaseTtlMs, ...opts.vars },
      d1Databases: { DB: "dagflare" },
      durableObjects: toml.durableObjects,
      // With `log`, the Worker's console lines go to it (as startWorker's `log` under wrangler dev).
      ...(opts.log && { handleStructuredLogs: ({ message }) => opts.log(message) }),
    }),
  );
  const url = (await mf.ready).toString().replace(/\/$/, "");
  await applyMigrations(mf);
  const res = await fetch(`${url}/api/v2/health`);
  if (!res.ok) throw new Error(`the Worker answered /health with ${res.status}`);
  return { url, bundle, stop: () => mf.dispose() };
}
