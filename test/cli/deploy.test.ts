// `npm run deploy` refuses, saying what to do, before it changes anything; and the Worker that
// `wrangler deploy` would upload is built and its size reported against the Workers limits.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { PLACEHOLDER_DB_ID } from "../../scripts/deploy-checks.mjs";
import { BIN, ROOT, toolEnv } from "../../scripts/stack.mjs";
import { tempDir } from "../e2e/harness";

const MiB = 1024 * 1024;
/** Workers' limits on the compressed Worker: the free plan's and the paid plan's. */
const FREE_LIMIT = 3 * MiB;
const PAID_LIMIT = 10 * MiB;

/** `npm run deploy` as an operator without Cloudflare credentials runs it. */
function deploy(args: string[]) {
  const env = toolEnv({ HOME: tempDir("deploy-home") });
  delete env.CLOUDFLARE_API_TOKEN;
  delete env.CLOUDFLARE_ACCOUNT_ID;
  const res = spawnSync(process.execPath, [path.join(ROOT, "scripts", "deploy.mjs"), ...args], {
    cwd: ROOT,
    env,
    encoding: "utf8",
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr.trim().split("\n") };
}

describe("npm run deploy", () => {
  it("refuses while production's D1 database id is the placeholder, and says how to create it", () => {
    const r = deploy([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toEqual([
      "npm run deploy: refused: wrangler.toml: the D1 database id of production is still the placeholder. Create the database with `npx wrangler d1 create dagflare` and put the database_id it prints in [[d1_databases]] (docs/deploy.md, step 2).",
    ]);
  });

  it("refuses staging's placeholder the same way, naming its own section", () => {
    const r = deploy(["--env", "staging"]);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toContain("`npx wrangler d1 create dagflare-staging`");
    expect(r.stderr[0]).toContain("[[env.staging.d1_databases]]");
  });

  it("refuses an environment wrangler.toml does not define, listing those it does", () => {
    const r = deploy(["--env", "qa"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      "npm run deploy: refused: wrangler.toml has no [env.qa]; environments: production (the top level), staging",
    ]);
  });

  it("refuses when it cannot see the Worker's secrets, before migrating or deploying anything", () => {
    const config = path.join(tempDir("deploy-config"), "wrangler.toml");
    const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
    writeFileSync(config, toml.replaceAll(PLACEHOLDER_DB_ID, "3f1c2a9e-5b7d-4c11-9a2e-0d6f8b1c2e4a"));
    const r = deploy(["--config", config]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("applying D1 migrations");
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(
      /^npm run deploy: refused: could not list the secrets of Worker dagflare \(.*CLOUDFLARE_API_TOKEN/,
    );
    expect(r.stderr[0]).toContain("Log in with `npx wrangler login`");
  });
});

describe("the Worker bundle", () => {
  it("builds with wrangler deploy --dry-run and fits the free plan's size limit", () => {
    const outdir = tempDir("bundle");
    const res = spawnSync(path.join(BIN, "wrangler"), ["deploy", "--dry-run", "--env=", "--outdir", outdir], {
      cwd: ROOT,
      env: toolEnv(),
      encoding: "utf8",
    });
    expect(res.status, res.stderr).toBe(0);
    const modules = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
    const raw = modules.reduce((n, f) => n + readFileSync(path.join(outdir, f)).length, 0);
    const gzip = modules.reduce((n, f) => n + gzipSync(readFileSync(path.join(outdir, f))).length, 0);
    const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
    const pct = (limit: number) => `${((100 * gzip) / limit).toFixed(1)}%`;
    console.log(
      `Worker bundle: ${kib(raw)}, ${kib(gzip)} gzip: ${pct(FREE_LIMIT)} of the free plan's 3 MiB, ${pct(PAID_LIMIT)} of the paid plan's 10 MiB`,
    );
    expect(gzip).toBeLessThan(FREE_LIMIT);
  });
});
