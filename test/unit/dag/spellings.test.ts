// Current Dagu writes DAG keys in snake_case; dagflare reads both spellings as one.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { camelSpelling, SPELLINGS } from "../../../src/dag/spellings";

/** Every property name at any depth of Dagu's DAG schema at the contract's version. */
function schemaKeys(): string[] {
  const file = path.resolve(import.meta.dirname, "../../../../shared/contracts/dagu-dag.schema.json");
  const names = new Set<string>();
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) o.forEach(walk);
    else if (o && typeof o === "object") {
      for (const [k, v] of Object.entries(o)) {
        if (k === "properties" && v && typeof v === "object") for (const name of Object.keys(v)) names.add(name);
        walk(v);
      }
    }
  };
  walk(JSON.parse(fs.readFileSync(file, "utf8")));
  return [...names].sort();
}

const CAMEL = `maxActiveRuns: 2
timeoutSec: 60
handlerOn:
  success: echo ok
env:
  - MY_VAR: one
steps:
  - name: a
    command: echo $MY_VAR
    retryPolicy:
      limit: 2
      intervalSec: 5
    continueOn:
      exitCode: [3]
    workerSelector:
      gpu_kind: a100
`;

const SNAKE = `max_active_runs: 2
timeout_sec: 60
handler_on:
  success: echo ok
env:
  - MY_VAR: one
steps:
  - name: a
    command: echo $MY_VAR
    retry_policy:
      limit: 2
      interval_sec: 5
    continue_on:
      exit_code: [3]
    worker_selector:
      gpu_kind: a100
`;

describe("the table of spellings", () => {
  it("has a snake_case spelling for every camelCase key of Dagu's DAG schema", () => {
    const camel = schemaKeys().filter((k) => /[A-Z]/.test(k));
    expect(camel.length).toBeGreaterThan(30);
    const missing = camel.filter((k) => !SPELLINGS.some(([c]) => c === k));
    expect(missing).toEqual([]);
  });

  it("spells each key in snake_case, once, as the words of its camelCase form", () => {
    const snakes = SPELLINGS.map(([, snake]) => snake);
    expect(new Set(snakes).size).toBe(snakes.length);
    for (const [camel, snake] of SPELLINGS) {
      expect(snake).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())).toBe(camel);
      expect(camelSpelling(snake)).toBe(camel);
    }
  });

  it("uses current Dagu's names for the keys people write most", () => {
    for (const [snake, camel] of [
      ["handler_on", "handlerOn"],
      ["max_active_runs", "maxActiveRuns"],
      ["retry_policy", "retryPolicy"],
      ["continue_on", "continueOn"],
      ["worker_selector", "workerSelector"],
      ["max_clean_up_time_sec", "maxCleanUpTimeSec"],
      ["disable_run_id_edit", "disableRunIdEdit"],
    ]) {
      expect(camelSpelling(snake as string)).toBe(camel);
    }
    expect(camelSpelling("MY_VAR")).toBeUndefined();
    expect(camelSpelling("gpu_kind")).toBeUndefined();
  });
});

describe("snake_case keys", () => {
  it("read the same DAG as their camelCase spelling", () => {
    const camel = parseDag(CAMEL, { name: "d" });
    const snake = parseDag(SNAKE, { name: "d" });
    if (!camel.ok || !snake.ok) throw new Error(JSON.stringify([camel, snake]));
    expect(snake.dag).toEqual(camel.dag);
    expect(snake.dag.maxActiveRuns).toBe(2);
    expect(snake.dag.steps[0]?.retryPolicy).toMatchObject({ limit: 2, intervalSec: 5 });
  });

  it("leave user names alone: env variables and worker labels keep their underscores", () => {
    const r = parseDag(SNAKE, { name: "d" });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.dag.env).toContainEqual(["MY_VAR", "one"]);
    expect(r.dag.steps[0]?.workerSelector).toEqual({ gpu_kind: "a100" });
  });

  it("refuse a file that writes one key both ways, naming both at the line", () => {
    const r = parseDag("steps:\n  - name: a\n    command: echo\n    timeoutSec: 5\n    timeout_sec: 6\n", {
      name: "d",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      expect.objectContaining({
        line: 5,
        field: "steps[0].timeoutSec",
        message: '"timeout_sec" and "timeoutSec" are the same key written two ways: keep one',
      }),
    ]);
  });
});
