// `npm run deploy [-- --env staging]`: the repeatable part of a deployment (docs/deploy.md).
// Checks the configuration and the Worker's secrets first and refuses, saying what to do, when
// one is missing; then builds the web UI (when there is one), applies the D1 migrations to the
// remote database and deploys the Worker.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs, stripVTControlCharacters } from "node:util";
import { deployTarget, missingSecrets } from "./deploy-checks.mjs";
import { BIN, ROOT, toolEnv } from "./stack.mjs";

const { values } = parseArgs({
  options: { env: { type: "string", default: "" }, config: { type: "string" } },
  strict: true,
});
const configPath = path.resolve(values.config ?? path.join(ROOT, "wrangler.toml"));
const envName = values.env ?? "";
const label = envName || "production";
// --env "" names the top level explicitly; wrangler warns about the ambiguity otherwise.
const wranglerArgs = ["--config", configPath, `--env=${envName}`];

function refuse(message) {
  process.stderr.write(`npm run deploy: refused: ${message}\n`);
  process.exit(1);
}

function run(command, args, what) {
  process.stdout.write(`\n> ${what}\n`);
  const res = spawnSync(command, args, { cwd: ROOT, stdio: "inherit", env: toolEnv({ CI: "true" }) });
  if (res.status !== 0) refuse(`${what} failed (exit ${res.status}); nothing after it was done`);
}

const target = deployTarget(readFileSync(configPath, "utf8"), envName);
if (!target.ok) refuse(target.message);

const listed = spawnSync(path.join(BIN, "wrangler"), ["secret", "list", "--format", "json", ...wranglerArgs], {
  cwd: ROOT,
  env: toolEnv({ CI: "true" }),
  encoding: "utf8",
});
let secrets;
try {
  secrets = listed.status === 0 ? JSON.parse(listed.stdout) : undefined;
} catch {
  // reported below with what wrangler said
}
if (!Array.isArray(secrets)) {
  const said = `${listed.stderr}\n${listed.stdout}`
    .split("\n")
    .map((l) => stripVTControlCharacters(l).trim())
    .find((l) => /error|not|fail/i.test(l));
  refuse(
    `could not list the secrets of Worker ${target.worker} (${said ?? `wrangler exited ${listed.status}`}). ` +
      "Log in with `npx wrangler login` (or set CLOUDFLARE_API_TOKEN); on a first deployment, set the secrets " +
      "first, which creates the Worker (docs/deploy.md, step 4).",
  );
}
const missing = missingSecrets(secrets);
if (missing.length) {
  const envFlag = envName ? ` --env ${envName}` : "";
  refuse(
    `Worker ${target.worker} lacks the secret${missing.length > 1 ? "s" : ""} ${missing.join(" and ")}: ` +
      missing.map((s) => `\`npx wrangler secret put ${s}${envFlag}\``).join(", then ") +
      " (docs/deploy.md, step 4)",
  );
}

process.stdout.write(`Deploying ${label}: Worker ${target.worker}, D1 database ${target.database}\n`);
run("npm", ["run", "build:ui", "--if-present"], "building the web UI");
run(
  path.join(BIN, "wrangler"),
  ["d1", "migrations", "apply", "DB", "--remote", ...wranglerArgs],
  "applying D1 migrations",
);
run(path.join(BIN, "wrangler"), ["deploy", ...wranglerArgs], "deploying the Worker");
process.stdout.write(`\nDeployed ${label}. Next: create a runner token and start a runner (docs/deploy.md, step 6).\n`);
