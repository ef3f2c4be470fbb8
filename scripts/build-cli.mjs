// Bundles the dagflare command (cli/src, the runner included) into cli/dist/dagflare.mjs: one
// file that any Node >= 20 runs, so the package has no dependencies to install.
import { chmodSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_DIR = path.join(ROOT, "cli");
export const CLI_BUNDLE = path.join(CLI_DIR, "dist", "dagflare.mjs");

export async function buildCli() {
  const { version } = JSON.parse(readFileSync(path.join(CLI_DIR, "package.json"), "utf8"));
  await build({
    entryPoints: [path.join(CLI_DIR, "src", "main.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    outfile: CLI_BUNDLE,
    logLevel: "warning",
    // Smaller to parse (a host's runner keeps it in memory); names kept for readable stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    define: { DAGFLARE_VERSION: JSON.stringify(version) },
    // commander is CommonJS and requires Node's modules: give the ES module bundle a require.
    banner: {
      js: '#!/usr/bin/env node\nimport { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);',
    },
  });
  chmodSync(CLI_BUNDLE, 0o755);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli();
