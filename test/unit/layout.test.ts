// The layout rules of the code's shape, kept true by a test: no import cycle among the sources
// of the Worker and the runner (type-only imports count: a cycle through types still ties two
// modules together), and no file of the Worker, the runner or the web UI over 300 lines but the
// few listed below, each with the reason it is still long.
// The import graph is read with TypeScript's own scanner (`preProcessFile`), which sees every
// `import`, `import type`, `export ... from` and `import()` without type-checking anything.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { findCycles, type ImportGraph } from "../support/import-cycles";

const root = path.resolve(import.meta.dirname, "../..");
const SOURCE_ROOTS = ["src", "runner/src"];
/** Whose files stay small enough to read at a sitting: the Worker, the runner and the web UI (its CSS too). */
const SIZED_ROOTS = ["src", "runner/src", "ui/src"];
const MAX_LINES = 300;
/**
 * The files still allowed over MAX_LINES, each with why. The list only shrinks: a new long file
 * fails the test, and so does a listed one back within the limit, so that its entry goes.
 */
const LONG_FILES: Record<string, string> = {};

const CODE = /\.tsx?$/;

function sourceFiles(dir: string, pattern = CODE): string[] {
  const abs = path.join(root, dir);
  if (statSync(abs).isFile()) return [dir];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(rel, pattern);
    return pattern.test(e.name) && !e.name.endsWith(".d.ts") ? [rel] : [];
  });
}

function lineCount(file: string): number {
  return readFileSync(path.join(root, file), "utf8").split("\n").length - 1;
}

/** The file a relative specifier names, as the bundler resolves it; undefined outside the sources. */
function resolve(from: string, specifier: string, known: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const stem = base.replace(/\.(m?js|tsx?)$/, "");
  return [base, `${stem}.ts`, `${stem}.tsx`, `${base}/index.ts`, `${base}/index.tsx`].find((f) => known.has(f));
}

/** Every module specifier of a file: `import`, `import type`, `export ... from`, `import()`. */
function imports(file: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  return ts.preProcessFile(text, true, true).importedFiles.map((i) => i.fileName);
}

function importGraph(files: string[]): ImportGraph {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = imports(file).flatMap((s) => resolve(file, s, known) ?? []);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

describe("the source layout", () => {
  const files = SOURCE_ROOTS.flatMap((dir) => sourceFiles(dir));

  it("finds every relative import of the sources, so that no import escapes the cycle check", () => {
    const known = new Set(files);
    // A relative import that resolves to no source must name a file outside them (generated migrations).
    const lost = files.flatMap((file) =>
      imports(file)
        .filter((s) => s.startsWith(".") && !resolve(file, s, known))
        .filter((s) => !existsSync(path.join(root, path.dirname(file), s)))
        .map((s) => `${file}: ${s}`),
    );
    expect(lost).toEqual([]);
  });

  it("has no import cycle among the Worker's and the runner's sources, type imports included", () => {
    const cycles = findCycles(importGraph(files)).map((c) => c.join(" -> "));
    expect(cycles, `import cycles:\n${cycles.join("\n")}`).toEqual([]);
  });

  const sized = SIZED_ROOTS.flatMap((dir) => sourceFiles(dir, /\.(tsx?|css)$/));

  it(`keeps every file of the Worker, the runner and the web UI within ${MAX_LINES} lines, but those listed`, () => {
    const long = sized
      .filter((file) => !Object.hasOwn(LONG_FILES, file))
      .map((file) => ({ file, lines: lineCount(file) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(long, `split these by concept, or list them in LONG_FILES with the reason`).toEqual([]);
  });

  it(`lists only files that exist and are still over ${MAX_LINES} lines`, () => {
    const stale = Object.keys(LONG_FILES).filter((file) => !sized.includes(file) || lineCount(file) <= MAX_LINES);
    expect(stale, "take these off LONG_FILES").toEqual([]);
  });
});
