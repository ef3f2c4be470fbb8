// dagflare login / logout: the server and its API token, checked against the server and saved
// in the user's config directory (mode 0600), so that later commands need neither.
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { ApiClient } from "../client.ts";
import { configPath, normalizeServer, removeLogin, saveLogin } from "../config.ts";
import type { Context } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { printJson, say } from "../output.ts";

export async function login(ctx: Context, opts: { withToken?: boolean }): Promise<number> {
  const given = ctx.opts.server ?? process.env.DAGFLARE_SERVER;
  if (!given) throw new CliError("dagflare login needs --server URL (or DAGFLARE_SERVER)", EXIT.usage);
  const server = normalizeServer(given);
  const token = await readToken(opts.withToken === true);
  const client = new ApiClient({ server, token: token || undefined });
  const health = await client.get<{ status?: string; version?: string }>("/health");
  if (health?.status !== "healthy" || typeof health.version !== "string") {
    throw new CliError(`${server} answered /api/v2/health, but not as a dagflare server does: check --server`);
  }
  // A call that needs the user token: a wrong one fails here, not at the next command.
  await client.get("/dags?perPage=1");
  const file = saveLogin({ server, token });
  if (ctx.json) printJson({ server, version: health.version, config: file });
  else {
    say(`logged in to ${server} (dagflare ${health.version})`);
    say(`saved to ${file}, readable by you only`);
  }
  return EXIT.ok;
}

export function logout(ctx: Context): number {
  const removed = removeLogin();
  if (ctx.json) printJson({ removed, config: configPath() });
  else say(removed ? `removed the saved login (${configPath()})` : "no saved login");
  return EXIT.ok;
}

/** DAGFLARE_TOKEN, else stdin with --with-token (as gh does), else a hidden prompt in a terminal. */
async function readToken(fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    let text = "";
    for await (const chunk of process.stdin) text += chunk;
    return text.trim();
  }
  if (process.env.DAGFLARE_TOKEN) return process.env.DAGFLARE_TOKEN;
  if (!process.stdin.isTTY) {
    throw new CliError("no token: set DAGFLARE_TOKEN, or pipe it in with --with-token", EXIT.usage);
  }
  return (await prompt("API token (DAGFLARE_API_TOKEN of the server; empty for an open local server): ")).trim();
}

/** Reads a line without echoing it. */
function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  let muted = true;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question("", (answer) => {
      muted = false;
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
  });
}
