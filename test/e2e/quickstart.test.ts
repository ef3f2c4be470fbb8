// The README's quickstart, exactly as written: `npm start`'s script, then the README's curl lines.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { ROOT } from "../../scripts/stack.mjs";
import { freePort, stopGroup, tempDir, waitFor } from "./harness";

let start: ChildProcess | undefined;

afterAll(async () => {
  if (start) await stopGroup(start);
});

/** The shell lines of the README block that follows the quickstart marker. */
function quickstartLines(): string[] {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const block = /<!-- quickstart[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README has no quickstart block");
  return block
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .filter((l) => l.trim() !== "");
}

it("runs the README's quickstart against npm start", async () => {
  const port = await freePort();
  let out = "";
  start = spawn(process.execPath, [path.join(ROOT, "scripts", "start.mjs")], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DAGFLARE_STATE_DIR: tempDir("quickstart") },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  start.stdout?.on("data", (b) => (out += b.toString()));
  start.stderr?.on("data", (b) => (out += b.toString()));
  await waitFor("npm start to be ready", async () => out.includes("Press Ctrl-C to stop."), 90_000);
  expect(out).toMatch(/authentication is OFF/);

  const results = quickstartLines().map((line) =>
    execFileSync("sh", ["-c", line.replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`)], { encoding: "utf8" }),
  );
  expect(JSON.parse(results[0] as string)).toEqual({ name: "hello" });
  expect(JSON.parse(results[1] as string).dagRunId).toMatch(/^[0-9a-f-]+$/);
  const details = JSON.parse(results[3] as string).dagRunDetails;
  expect(details.statusLabel).toBe("succeeded");
  expect(details.nodes.map((n: { statusLabel: string }) => n.statusLabel)).toEqual(["succeeded", "succeeded"]);
  expect(JSON.parse(results[4] as string).content).toBe("hello from dagflare");
});
