// The runner's log on stderr: the lines of one turn leave in one write, and none is lost at exit.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { logLine } from "../../runner/src/runner-log";

const root = path.resolve(import.meta.dirname, "../..");
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the runner's log", () => {
  it("writes the lines of one turn in one write, in order, each stamped with its own time", async () => {
    await nextTurn();
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    logLine("first");
    logLine("second");
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toHaveLength(1);
    const lines = (writes[0] ?? "").split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(STAMP);
    expect(lines[0]?.endsWith(" first")).toBe(true);
    expect(lines[1]?.endsWith(" second")).toBe(true);
  });

  it("writes what is pending when the process exits in the same turn", () => {
    const script = `import { logLine } from "./runner/src/runner-log.ts"; logLine("last words"); process.exit(3);`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/Z last words\n$/);
  });
});
