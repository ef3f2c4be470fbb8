// Current Dagu writes DAG keys in snake_case; dagflare reads both spellings as one.
import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";

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
