// What `npm run deploy` checks before it changes anything, as functions of the configuration and
// of the secrets the Worker has, so that each refusal is tested on its own.
import { parse } from "smol-toml";

export const PLACEHOLDER_DB_ID = "00000000-0000-0000-0000-000000000000";
export const REQUIRED_SECRETS = ["DAGFLARE_API_TOKEN", "DAGFLARE_RUNNER_TOKEN"];

/**
 * The Worker and D1 database an environment deploys (`""` is the top level, production), or
 * the reason it cannot be deployed.
 * @param {string} tomlText
 * @param {string} env
 * @returns {{ ok: true, worker: string, database: string } | { ok: false, message: string }}
 */
export function deployTarget(tomlText, env) {
  const config = parse(tomlText);
  const section = env === "" ? config : config.env?.[env];
  const where = env === "" ? "" : `env.${env}.`;
  if (!section) {
    const known = Object.keys(config.env ?? {});
    return {
      ok: false,
      message: `wrangler.toml has no [env.${env}]; environments: production (the top level)${known.map((k) => `, ${k}`).join("")}`,
    };
  }
  const db = (section.d1_databases ?? []).find((d) => d.binding === "DB");
  if (!db) return { ok: false, message: `wrangler.toml: [[${where}d1_databases]] has no binding "DB"` };
  if (!db.database_id || db.database_id === PLACEHOLDER_DB_ID) {
    return {
      ok: false,
      message:
        `wrangler.toml: the D1 database id of ${env || "production"} is still the placeholder. ` +
        `Create the database with \`npx wrangler d1 create ${db.database_name}\` and put the database_id it prints ` +
        `in [[${where}d1_databases]] (docs/deploy.md, step 2).`,
    };
  }
  return { ok: true, worker: section.name ?? config.name, database: db.database_name };
}

/**
 * The secrets the Worker still needs, from `wrangler secret list --format json`.
 * @param {Array<{ name: string }>} secrets
 */
export function missingSecrets(secrets) {
  const have = new Set(secrets.map((s) => s.name));
  return REQUIRED_SECRETS.filter((name) => !have.has(name));
}
