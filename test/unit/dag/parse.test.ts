import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { type DagDef, type DagIssue, formatIssue } from "../../../src/dag/types";

function ok(yaml: string, name = "test"): DagDef {
  const r = parseDag(yaml, { name });
  if (!r.ok) throw new Error(`expected a valid DAG, got:\n${r.errors.map(formatIssue).join("\n")}`);
  return r.dag;
}

function errors(yaml: string, name = "test"): DagIssue[] {
  const r = parseDag(yaml, { name });
  if (r.ok) throw new Error("expected errors");
  return r.errors;
}

const deps = (d: DagDef) => Object.fromEntries(d.steps.map((s) => [s.name, s.depends]));

describe("parseDag: the language", () => {
  it("makes each step of a chain depend on the one before it", () => {
    const d = ok(
      "steps:\n  - name: a\n    command: echo a\n  - name: b\n    command: echo b\n  - name: c\n    command: echo c\n",
    );
    expect(d.type).toBe("chain");
    expect(deps(d)).toEqual({ a: [], b: ["a"], c: ["b"] });
  });

  it("keeps explicit depends in a chain, even an empty list", () => {
    const d = ok(
      "steps:\n  - name: a\n    command: x\n  - name: b\n    command: x\n    depends: []\n  - name: c\n    command: x\n    depends: a\n",
    );
    expect(deps(d)).toEqual({ a: [], b: [], c: ["a"] });
  });

  it("adds no implicit edges in a graph", () => {
    const d = ok("type: graph\nsteps:\n  - name: a\n    command: x\n  - name: b\n    command: x\n");
    expect(deps(d)).toEqual({ a: [], b: [] });
  });

  it("reads string steps and nested parallel groups with generated names", () => {
    const d = ok("steps:\n  - echo one\n  - - echo two\n    - echo three\n  - echo four\n");
    expect(d.steps.map((s) => [s.name, s.command])).toEqual([
      ["step_1", "echo one"],
      ["step_2", "echo two"],
      ["step_3", "echo three"],
      ["step_4", "echo four"],
    ]);
    expect(deps(d)).toEqual({ step_1: [], step_2: ["step_1"], step_3: ["step_1"], step_4: ["step_2", "step_3"] });
  });

  it("reads a map of steps, named by their keys", () => {
    const d = ok(
      "type: graph\nsteps:\n  build:\n    command: make\n  test:\n    command: make test\n    depends: build\n",
    );
    expect(d.steps.map((s) => s.name)).toEqual(["build", "test"]);
    expect(deps(d)).toEqual({ build: [], test: ["build"] });
  });

  it("joins an array command into one command line, quoting where needed", () => {
    const d = ok('steps:\n  - name: a\n    command: [echo, "hello world", 3, "it\'s"]\n');
    expect(d.steps[0]?.command).toBe(`echo 'hello world' 3 'it'\\''s'`);
  });

  it.each([
    [
      "a positional string",
      'params: "one \\"two words\\" three"',
      [
        { name: null, value: "one" },
        { name: null, value: "two words" },
        { name: null, value: "three" },
      ],
    ],
    [
      "a list of K=V and maps",
      "params:\n  - A=1\n  - B: two\n  - plain",
      [
        { name: "A", value: "1" },
        { name: "B", value: "two" },
        { name: null, value: "plain" },
      ],
    ],
    [
      "a map",
      "params:\n  X: 1\n  Y: y",
      [
        { name: "X", value: "1" },
        { name: "Y", value: "y" },
      ],
    ],
  ])("reads params given as %s", (_label, yaml, want) => {
    expect(ok(`${yaml}\nsteps:\n  - echo\n`).params).toEqual(want);
  });

  it.each([
    ["a map", "env:\n  A: 1\n  B: ${A}2"],
    ["a list of maps", "env:\n  - A: 1\n  - B: ${A}2"],
    ["a list of K=V strings", "env:\n  - A=1\n  - B=${A}2"],
  ])("reads env given as %s, in order", (_label, yaml) => {
    expect(ok(`${yaml}\nsteps:\n  - echo\n`).env).toEqual([
      ["A", "1"],
      ["B", "${A}2"],
    ]);
  });

  it("reads tags as a list or as a comma-separated string", () => {
    expect(ok("tags: a, b ,c\nsteps:\n  - echo\n").tags).toEqual(["a", "b", "c"]);
    expect(ok("tags: [x, y]\nsteps:\n  - echo\n").tags).toEqual(["x", "y"]);
  });

  it("reads the step fields of the core subset", () => {
    const d = ok(`shell: bash -e
steps:
  - name: s
    id: s1
    description: does s
    command: run
    shell: [zsh, -c]
    workingDir: /tmp
    output: OUT
    timeoutSec: "30"
    env: [X=1]
    retryPolicy: { limit: 2, intervalSec: 5 }
    continueOn: { failure: true, exitCode: [3, 4] }
`);
    expect(d.shell).toEqual(["bash", "-e"]);
    expect(d.steps[0]).toEqual({
      name: "s",
      id: "s1",
      description: "does s",
      command: "run",
      shell: ["zsh", "-c"],
      dir: "/tmp",
      output: "OUT",
      timeoutSec: 30,
      env: [["X", "1"]],
      depends: [],
      retryPolicy: { limit: 2, intervalSec: 5 },
      continueOn: { failure: true, skipped: false, exitCode: [3, 4] },
    });
  });

  it("reads the continueOn shorthand", () => {
    expect(ok("steps:\n  - name: a\n    command: x\n    continueOn: failed\n").steps[0]?.continueOn.failure).toBe(true);
  });

  it("takes the name from the spec over the stored name", () => {
    expect(ok("name: mine\nsteps:\n  - echo\n", "stored").name).toBe("mine");
    expect(ok("steps:\n  - echo\n", "stored").name).toBe("stored");
  });
});

describe("parseDag: validation", () => {
  it("reports a YAML syntax error with its line", () => {
    const [e] = errors("steps:\n  - name: a\n    command: [oops\n");
    expect(e?.message).toMatch(/YAML syntax/);
    expect(e?.line).toBeGreaterThanOrEqual(3);
  });

  it("reports every problem at once, each with its line and field", () => {
    const errs = errors(`name: ok
steps:
  - name: a
    command: echo
    colour: red
  - name: b
    depends: [ghost]
    command: echo
  - name: a
    script: echo
`);
    expect(errs.map((e) => [e.line, e.field, e.message])).toEqual(
      expect.arrayContaining([
        [5, "steps[0].colour", 'unknown key "colour"'],
        [7, "steps[1].depends", 'step "b" depends on unknown step "ghost"'],
        [9, "steps[2].name", 'duplicate step name "a"'],
      ]),
    );
    expect(errs).toHaveLength(3);
  });

  it("names the steps of a dependency cycle", () => {
    const errs = errors(
      "type: graph\nsteps:\n  - name: a\n    command: x\n    depends: c\n  - name: b\n    command: x\n    depends: a\n  - name: c\n    command: x\n    depends: b\n",
    );
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toBe("dependency cycle: a -> c -> b -> a (each depends on the next)");
  });

  it("refuses keys of the schema that are not built yet as not supported, never ignoring them", () => {
    const errs = errors(
      "schedule: '* * * * *'\nsteps:\n  - name: a\n    command: x\n    repeatPolicy: { repeat: true }\n    retryPolicy: { limit: 1, backoff: true }\n",
    );
    expect(errs.map((e) => e.message)).toEqual([
      '"schedule" is not supported yet',
      '"repeatPolicy" is not supported yet',
      '"backoff" is not supported yet',
    ]);
    expect(errs.map((e) => e.line)).toEqual([1, 5, 6]);
  });

  it.each([
    ["bad name!", "invalid DAG name"],
    ["x".repeat(41), "invalid DAG name"],
  ])("refuses the DAG name %j", (name, message) => {
    expect(errors("steps:\n  - echo\n", name)[0]?.message).toMatch(message);
  });

  it("requires a name when neither the spec nor the caller gives one", () => {
    const r = parseDag("steps:\n  - echo\n");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toMatch(/name is required/);
  });

  it.each([
    ["no steps", "description: x\n", /steps is required/],
    ["an empty step list", "steps: []\n", /at least one step/],
    ["a step without command or script", "steps:\n  - name: a\n", /needs a command or a script/],
    [
      "a non-integer timeout",
      "steps:\n  - name: a\n    command: x\n    timeoutSec: soon\n",
      /timeoutSec must be an integer/,
    ],
    [
      "a negative retry limit",
      "steps:\n  - name: a\n    command: x\n    retryPolicy: { limit: -1 }\n",
      /limit must be an integer >= 0/,
    ],
    ["a bad env name", "env:\n  - 1X: y\nsteps:\n  - echo\n", /invalid variable name "1X"/],
    [
      "a bad output name",
      "steps:\n  - name: a\n    command: x\n    output: not-valid\n",
      /output "not-valid" is not a valid variable name/,
    ],
    ["an unknown type", "type: dag\nsteps:\n  - echo\n", /type must be "graph" or "chain"/],
    [
      "duplicate step ids",
      "steps:\n  - name: a\n    id: x\n    command: x\n  - name: b\n    id: x\n    command: x\n",
      /duplicate step id "x"/,
    ],
    ["a document that is not a mapping", "- just\n- a list\n", /must be a mapping/],
    ["a duplicate key", "steps:\n  - echo\nsteps:\n  - echo\n", /YAML syntax/],
  ])("reports %s", (_label, yaml, message) => {
    expect(
      errors(yaml)
        .map((e) => e.message)
        .join("\n"),
    ).toMatch(message);
  });
});
