// Bundles the dagflare command (cli/src, the runner included) into cli/dist: dagflare.mjs and the
// chunks it loads, plain files that any Node >= 20 runs, so the package has no dependencies but the
// optional koffi (posix_spawn for the runner: runner/src/posix-spawn.ts), which stays outside.
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_DIR = path.join(ROOT, "cli");
export const CLI_BUNDLE = path.join(CLI_DIR, "dist", "dagflare.mjs");

/** Builds into `outdir` (cli/dist unless given: the tests build a copy of their own); returns the entry's path. */
export async function buildCli(outdir = path.dirname(CLI_BUNDLE)) {
  const entry = path.join(outdir, path.basename(CLI_BUNDLE));
  rmSync(outdir, { recursive: true, force: true });
  const { version } = JSON.parse(readFileSync(path.join(CLI_DIR, "package.json"), "utf8"));
  await build({
    entryPoints: [path.join(CLI_DIR, "src", "main.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    // The entry is small and loads either the runner or the other commands, each its own chunk,
    // so a host's runner parses and keeps only the runner's code.
    outdir,
    entryNames: "dagflare",
    chunkNames: "[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    splitting: true,
    logLevel: "warning",
    // Smaller to parse (a host's runner keeps it in memory); names kept for readable stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    define: { DAGFLARE_VERSION: JSON.stringify(version) },
    // commander is CommonJS and requires Node's modules: give the ES module chunks a require.
    banner: {
      js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);',
    },
  });
  // The entry is the command: a #! line (the chunks must not have one after the banner).
  writeFileSync(entry, `#!/usr/bin/env node\n${readFileSync(entry, "utf8")}`);
  chmodSync(entry, 0o755);
  return entry;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli();
