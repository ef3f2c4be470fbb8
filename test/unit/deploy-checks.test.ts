// The checks `npm run deploy` makes before it changes anything.
import { describe, expect, it } from "vitest";
import { deployTarget, missingSecrets } from "../../scripts/deploy-checks.mjs";

const toml = (id: string) => `name = "dagflare"
[[d1_databases]]
binding = "DB"
database_name = "dagflare"
database_id = "${id}"
[env.staging]
name = "dagflare-staging"
`;

describe("deploy checks", () => {
  it("names the Worker and database of an environment whose database id is set", () => {
    expect(deployTarget(toml("3f1c2a9e-5b7d-4c11-9a2e-0d6f8b1c2e4a"), "")).toEqual({
      ok: true,
      worker: "dagflare",
      database: "dagflare",
    });
  });

  it("refuses an environment without a DB binding", () => {
    const r = deployTarget(toml("3f1c2a9e-5b7d-4c11-9a2e-0d6f8b1c2e4a"), "staging");
    expect(r).toEqual({ ok: false, message: 'wrangler.toml: [[env.staging.d1_databases]] has no binding "DB"' });
  });

  it("names each required secret the Worker lacks", () => {
    expect(missingSecrets([])).toEqual(["DAGFLARE_API_TOKEN", "DAGFLARE_RUNNER_TOKEN"]);
    expect(missingSecrets([{ name: "DAGFLARE_API_TOKEN" }, { name: "OTHER" }])).toEqual(["DAGFLARE_RUNNER_TOKEN"]);
    expect(missingSecrets([{ name: "DAGFLARE_API_TOKEN" }, { name: "DAGFLARE_RUNNER_TOKEN" }])).toEqual([]);
  });
});
