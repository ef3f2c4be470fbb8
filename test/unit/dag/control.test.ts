import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { type DagIssue, formatIssue } from "../../../src/dag/types";

function errors(yaml: string): DagIssue[] {
  const r = parseDag(yaml, { name: "test" });
  if (r.ok) throw new Error("expected errors, the DAG parsed");
  return r.errors;
}

describe("parseDag: executor", () => {
  it.each(["shell", "command", "{ type: shell }"])("accepts the shell executor written as %s", (form) => {
    const r = parseDag(`steps:\n  - command: echo hi\n    executor: ${form}\n`, { name: "t" });
    expect(r.ok).toBe(true);
  });

  it.each([
    ["docker", "executor: docker", 3, "steps[0].executor"],
    ["http", "executor:\n      type: http\n      config: {}", 4, "steps[0].executor.type"],
    ["ssh", "executor: { type: ssh }", 3, "steps[0].executor.type"],
  ])("refuses the %s executor, naming it, with its line", (name, yaml, line, field) => {
    const errs = errors(`steps:\n  - command: echo hi\n    ${yaml}\n`);
    expect(errs.map(formatIssue)).toEqual([
      `line ${line}, ${field}: executor "${name}" is not supported: dagflare runs steps with the shell executor only`,
    ]);
  });
});

function ok(yaml: string) {
  const r = parseDag(yaml, { name: "test" });
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
  return r.dag;
}

describe("parseDag: control keys", () => {
  it("reads DAG and step preconditions in every form", () => {
    const d = ok(`
precondition: test -d /tmp
preconditions:
  - condition: "\`date +%d\`"
    expected: "re:^[0-9]+$"
  - condition: "$ENV"
    expected: prod
    negate: true
steps:
  - command: echo hi
    preconditions:
      - test -f x
      - { command: "$A", expected: b }
`);
    expect(d.preconditions).toEqual([
      { condition: "test -d /tmp" },
      { condition: "`date +%d`", expected: "re:^[0-9]+$" },
      { condition: "$ENV", expected: "prod", negate: true },
    ]);
    expect(d.steps[0]?.preconditions).toEqual([{ condition: "test -f x" }, { condition: "$A", expected: "b" }]);
  });

  it("reads retryPolicy, continueOn, repeatPolicy and signalOnStop in full", () => {
    const d = ok(`
timeoutSec: 60
delaySec: 2
maxActiveSteps: 3
steps:
  - command: echo hi
    retryPolicy: { limit: 3, intervalSec: 1, backoff: true, maxIntervalSec: 10, exitCode: [1, 75] }
    continueOn: { output: ["re:WARN.*", done], markSuccess: true }
    repeatPolicy: { repeat: until, condition: "$S", expected: ok, intervalSec: 5, backoff: 1.5, limit: 4 }
    signalOnStop: int
`);
    const s = d.steps[0];
    expect([d.timeoutSec, d.delaySec, d.maxActiveSteps]).toEqual([60, 2, 3]);
    expect(s?.retryPolicy).toEqual({ limit: 3, intervalSec: 1, backoff: 2, maxIntervalSec: 10, exitCode: [1, 75] });
    expect(s?.continueOn).toMatchObject({ output: ["re:WARN.*", "done"], markSuccess: true });
    expect(s?.repeatPolicy).toEqual({
      mode: "until",
      condition: { condition: "$S", expected: "ok" },
      intervalSec: 5,
      backoff: 1.5,
      limit: 4,
    });
    expect(s?.signalOnStop).toBe("SIGINT");
  });

  it.each([
    [
      "a bad regular expression",
      "preconditions:\n      - condition: x\n        expected: 're:('",
      5,
      "steps[0].preconditions[0].expected",
    ],
    ["an unknown signal", "signalOnStop: SIGFOO", 3, "steps[0].signalOnStop"],
    ["until with nothing to wait for", "repeatPolicy: { repeat: until, limit: 3 }", 3, "steps[0].repeatPolicy"],
    ["a backoff below 1", "retryPolicy: { limit: 1, backoff: 0.5 }", 3, "steps[0].retryPolicy.backoff"],
  ])("refuses %s with its line and field", (_label, yaml, line, field) => {
    const errs = errors(`steps:\n  - command: x\n    ${yaml}\n`);
    expect(errs).toHaveLength(1);
    expect([errs[0]?.line, errs[0]?.field]).toEqual([line, field]);
  });
});

describe("parseDag: handlerOn", () => {
  it("reads each handler as a step named after it; abort is cancel", () => {
    const d = ok(`
handlerOn:
  init: echo setup
  success: echo ok
  abort:
    command: echo cancelled
  exit:
    script: echo bye
steps:
  - echo hi
`);
    expect(d.handlerOn?.init).toMatchObject({ name: "onInit", command: "echo setup", depends: [] });
    expect(d.handlerOn?.success).toMatchObject({ name: "onSuccess", command: "echo ok", depends: [] });
    expect(d.handlerOn?.cancel).toMatchObject({ name: "onCancel", command: "echo cancelled" });
    expect(d.handlerOn?.exit).toMatchObject({ name: "onExit", script: "echo bye" });
    expect(d.handlerOn?.failure).toBeUndefined();
  });

  it.each([
    ["an unknown handler", "handlerOn:\n  later: echo x\n", 2, "handlerOn.later", "unknown handler"],
    [
      "depends",
      "handlerOn:\n  success:\n    command: x\n    depends: a\n",
      3,
      "handlerOn.success.depends",
      "cannot depend",
    ],
    ["a clashing step name", "handlerOn:\n  exit: echo x\n", 2, "handlerOn.exit", 'a step is named "onExit"'],
  ])("refuses %s", (_label, yaml, line, field, message) => {
    const errs = errors(`${yaml}steps:\n  - name: onExit\n    command: echo\n`);
    expect(errs).toHaveLength(1);
    expect([errs[0]?.line, errs[0]?.field]).toEqual([line, field]);
    expect(errs[0]?.message).toContain(message);
  });
});

describe("parseDag: repeatPolicy without end", () => {
  it("refuses a repeat with neither limit nor intervalSec, which would run again at once for ever", () => {
    expect(errors("steps:\n  - command: x\n    repeatPolicy: { repeat: true }\n").map(formatIssue)).toEqual([
      "line 3, steps[0].repeatPolicy: steps[0].repeatPolicy has neither limit nor intervalSec: give a limit (at most 10000) or an intervalSec of at least 1",
    ]);
  });

  it("takes a repeat without limit that pauses between runs", () => {
    expect(
      parseDag("steps:\n  - command: x\n    repeatPolicy: { repeat: true, intervalSec: 1 }\n", { name: "t" }).ok,
    ).toBe(true);
  });
});
