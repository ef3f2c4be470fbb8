// `node scripts/contract-json.mjs <dagu-api-v2.yaml>`: writes Dagu's v2 contract, as JSON, to
// src/openapi/dagu-api-v2.json, the copy the Worker serves its OpenAPI document from. Run it
// when the contract changes; test/unit/openapi-copy.test.ts fails until the copy matches.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { BIN, ROOT } from "./stack.mjs";

const source = process.argv[2];
if (!source) {
  console.error("usage: node scripts/contract-json.mjs <path of dagu-api-v2.yaml>");
  process.exit(2);
}
const out = path.join(ROOT, "src", "openapi", "dagu-api-v2.json");
writeFileSync(out, `${JSON.stringify(parse(readFileSync(source, "utf8")), null, 2)}\n`);
spawnSync(path.join(BIN, "biome"), ["format", "--write", out], { cwd: ROOT, stdio: "inherit" });
console.log(`wrote ${path.relative(ROOT, out)}`);
