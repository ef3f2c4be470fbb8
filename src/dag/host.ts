// Keys about the runner's machine: the working directory, .env files, secrets. dagflare only
// reads and checks them here; the runner resolves the paths and reads the files and values on
// its own host, so no file content or secret value ever reaches the server.
// PURE.
import { isMap, isSeq, type Node } from "yaml";
import type { Issues } from "./issues";
import type { SecretRef } from "./types";
import { readStringList, VAR_NAME } from "./values";
import { child, isAbsent, keyOf, scalarText } from "./yaml-nodes";

/** Secret providers the runner resolves: its own environment, or a file on its host. */
export const SECRET_PROVIDERS = ["env", "file"] as const;

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

/** `secrets: [{name, provider, key, options?}]`. */
export function readSecrets(node: Node, issues: Issues): SecretRef[] {
  if (!isSeq(node)) {
    issues.at(node, "secrets", "secrets must be a list of {name, provider, key}");
    return [];
  }
  const out: SecretRef[] = [];
  const seen = new Set<string>();
  node.items.forEach((item, i) => {
    const field = `secrets[${i}]`;
    if (!isMap(item)) {
      issues.at(item as Node, field, `${field} must be a mapping (name, provider, key)`);
      return;
    }
    for (const pair of item.items) {
      const k = keyOf(pair);
      if (!["name", "provider", "key", "options"].includes(k)) {
        issues.at(pair.key as Node, `${field}.${k}`, `unknown key "${k}"`);
      }
    }
    const text = (k: string): string | undefined => {
      const n = child(item, k);
      if (isAbsent(n)) {
        issues.at(item, `${field}.${k}`, `${field}.${k} is required`);
        return undefined;
      }
      const t = issues.string(n, `${field}.${k}`);
      if (t !== undefined && t === "") issues.at(n, `${field}.${k}`, `${field}.${k} must not be empty`);
      return t || undefined;
    };
    const name = text("name");
    const provider = text("provider");
    const key = text("key");
    if (name !== undefined && !VAR_NAME.test(name)) {
      issues.at(child(item, "name"), `${field}.name`, `invalid variable name "${name}"`);
    } else if (name !== undefined && seen.has(name)) {
      issues.at(child(item, "name"), `${field}.name`, `duplicate secret name "${name}"`);
    }
    if (name !== undefined) seen.add(name);
    if (provider !== undefined && !(SECRET_PROVIDERS as readonly string[]).includes(provider)) {
      issues.at(
        child(item, "provider"),
        `${field}.provider`,
        `unknown secret provider "${provider}" (dagflare resolves ${SECRET_PROVIDERS.map((p) => `"${p}"`).join(" and ")})`,
      );
    }
    const optionsNode = child(item, "options");
    const options: Record<string, string> = {};
    if (!isAbsent(optionsNode)) {
      if (!isMap(optionsNode)) issues.at(optionsNode, `${field}.options`, `${field}.options must be a mapping`);
      else {
        for (const pair of optionsNode.items) {
          const v = scalarText(pair.value);
          if (v === undefined)
            issues.at(pair.value as Node, `${field}.options.${keyOf(pair)}`, "options must be strings");
          else options[keyOf(pair)] = v;
        }
        // Neither provider takes options; saying so beats ignoring them quietly.
        if (optionsNode.items.length) {
          issues.warn(
            optionsNode,
            `${field}.options`,
            `the ${provider ?? ""} provider takes no options; they are ignored`,
          );
        }
      }
    }
    if (name !== undefined && provider !== undefined && key !== undefined) {
      out.push({ name, provider: provider as SecretRef["provider"], key });
    }
  });
  return out;
}
