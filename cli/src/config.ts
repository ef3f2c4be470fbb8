// The saved login: the server and its token, in the user's config directory, readable by the
// user only. The environment and flags win over the file, and the saved token is only ever sent
// to the server it was saved for.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { CliError } from "./errors.ts";

export interface SavedLogin {
  server: string;
  token: string;
}

export interface Connection {
  server: string;
  token: string | undefined;
}

type Env = Record<string, string | undefined>;

/** `$XDG_CONFIG_HOME/dagflare/config.json`, else `~/.config/...` (`%APPDATA%` on Windows). */
export function configPath(env: Env = process.env): string {
  const base =
    env.XDG_CONFIG_HOME ||
    (process.platform === "win32" && env.APPDATA ? env.APPDATA : path.join(homedir(), ".config"));
  return path.join(base, "dagflare", "config.json");
}

export function readLogin(env: Env = process.env): SavedLogin | undefined {
  const file = configPath(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // No saved login yet: the flags and the environment must say where to go.
    return undefined;
  }
  try {
    const data = JSON.parse(text) as Partial<SavedLogin>;
    if (typeof data.server === "string" && typeof data.token === "string") {
      return { server: data.server, token: data.token };
    }
  } catch {
    // reported below, with the file's name
  }
  throw new CliError(`${file} is not a dagflare config file; run dagflare login again`);
}

export function saveLogin(login: SavedLogin, env: Env = process.env): string {
  const file = configPath(env);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // Written beside and renamed, so a crash never leaves half a file; 0600 from the first byte.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

export function removeLogin(env: Env = process.env): boolean {
  const file = configPath(env);
  const existed = readLogin(env) !== undefined;
  rmSync(file, { force: true });
  return existed;
}

/** A server URL without a trailing slash; refused unless it is http(s). */
export function normalizeServer(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`server "${text}" is not a URL (expected e.g. https://dagflare.example.workers.dev)`, 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`server "${text}" must be an http:// or https:// URL`, 2);
  }
  if (url.search || url.hash) throw new CliError(`server "${text}" must not have a query or fragment`, 2);
  return url.href.replace(/\/+$/, "");
}

/** Where to connect: --server, else DAGFLARE_SERVER, else the saved login. */
export function resolveConnection(flagServer: string | undefined, env: Env = process.env): Connection {
  const saved = readLogin(env);
  const given = flagServer ?? (env.DAGFLARE_SERVER || undefined);
  const server = given !== undefined ? normalizeServer(given) : saved?.server;
  if (server === undefined) {
    throw new CliError(
      "no server: run `dagflare login --server URL`, or pass --server URL or set DAGFLARE_SERVER (locally: http://127.0.0.1:8787)",
    );
  }
  const token = env.DAGFLARE_TOKEN || (saved && saved.server === server ? saved.token : undefined);
  return { server, token };
}
