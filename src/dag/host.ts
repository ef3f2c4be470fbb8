// Keys about the runner's machine: the working directory, .env files, secrets. dagflare only
// reads and checks them here; the runner resolves the paths and reads the files and values on
// its own host, so no file content or secret value ever reaches the server.
// PURE.
import { isSeq, type Node } from "yaml";
import type { Issues } from "./issues";
import { readStringList } from "./values";

/** Dagu's default: a `.env` in the DAG's working directory, loaded when it exists. */
export const DEFAULT_DOTENV = ".env";

/**
 * `p` under `base`: unless `p` is absolute (`/...`), home-relative (`~`, `~/...`) or there is no
 * base, in which case `p` stays as it is (the runner resolves it against its own working directory).
 */
export function underDir(base: string | undefined, p: string): string {
  if (base === undefined || base === "" || p.startsWith("/") || p === "~" || p.startsWith("~/")) return p;
  return `${base.replace(/\/+$/, "")}/${p}`;
}

/** A path key (`workingDir`, `stdout`, `stderr`): a non-empty string. */
export function readPath(node: Node, field: string, issues: Issues): string | undefined {
  const text = issues.string(node, field);
  if (text !== undefined && text.trim() === "") {
    issues.at(node, field, `${field} must not be empty`);
    return undefined;
  }
  return text;
}

/** `dotenv: path`, or a list of paths; `[]` turns the default `.env` off. */
export function readDotenv(node: Node, issues: Issues): string[] {
  const files = readStringList(node, "dotenv", issues, false);
  files.forEach((f, i) => {
    if (f.trim() === "") issues.at(node, isSeq(node) ? `dotenv[${i}]` : "dotenv", "a dotenv path must not be empty");
  });
  return files;
}
