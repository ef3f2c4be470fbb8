// `npm start` on a port something else already serves: it refuses to start, saying so, rather
// than taking that server's health answer for its own.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { ROOT } from "../../scripts/stack.mjs";
import { freePort, stopGroup, tempDir } from "./harness";

let start: ChildProcess | undefined;
let other: Server | undefined;

afterAll(async () => {
  if (start) await stopGroup(start);
  await new Promise((r) => (other ? other.close(r) : r(undefined)));
});

it("refuses to start when its port is already served, naming the port", async () => {
  const port = await freePort();
  // Another program that even answers dagflare's health check.
  other = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  await new Promise<void>((r) => other?.listen(port, "127.0.0.1", r));
  let out = "";
  start = spawn(process.execPath, [path.join(ROOT, "scripts", "start.mjs")], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DAGFLARE_STATE_DIR: tempDir("port-taken") },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  start.stdout?.on("data", (b) => (out += b.toString()));
  start.stderr?.on("data", (b) => (out += b.toString()));
  const code = await new Promise((r) => start?.once("exit", r));
  expect(code).toBe(1);
  expect(out).toMatch(new RegExp(`cannot start: port ${port} on 127.0.0.1 is already in use`));
  expect(out).not.toMatch(/dagflare is running/);
}, 60_000);
