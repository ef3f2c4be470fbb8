import { describe, expect, it } from "vitest";
import schemaText from "../../../../shared/contracts/dagu-dag.schema.json?raw";
import { parseDag } from "../../../src/dag/parse";
import { RUN_POLICY_KEYS } from "../../../src/dag/run-policy";
import { type DagDef, type DagIssue, formatIssue, type StepDef } from "../../../src/dag/types";

/** YAML from a template literal, without its leading newline, so line 1 is the first line written. */
const y = (text: string) => text.replace(/^\n/, "");

function ok(yaml: string, name = "test"): DagDef {
  const r = parseDag(yaml, { name });
  if (!r.ok) throw new Error(`expected a valid DAG, got:\n${r.errors.map(formatIssue).join("\n")}`);
  return r.dag;
}

function errors(yaml: string, name = "test"): DagIssue[] {
  const r = parseDag(yaml, { name });
  if (r.ok) throw new Error("expected errors, the DAG parsed");
  return r.errors;
}

/** The only error of a file, as [line, field, message]. */
function onlyError(yaml: string): [number | undefined, string | undefined, string] {
  const errs = errors(yaml);
  expect(errs.map(formatIssue)).toHaveLength(1);
  const [e] = errs;
  return [e?.line, e?.field, e?.message ?? ""];
}

const deps = (d: DagDef) => Object.fromEntries(d.steps.map((s) => [s.name, s.depends]));
const step0 = (d: DagDef): StepDef => {
  const s = d.steps[0];
  if (!s) throw new Error("no step");
  return s;
};

describe("parseDag: dependencies", () => {
  it("makes each step of a chain depend on the one before it", () => {
    const d = ok(
      y(`
steps:
  - name: a
    command: echo a
  - name: b
    command: echo b
  - name: c
    command: echo c
`),
    );
    expect(d.type).toBe("chain");
    expect(deps(d)).toEqual({ a: [], b: ["a"], c: ["b"] });
  });

  it("makes a chain step with its own depends follow the step before it too, as Dagu does", () => {
    const d = ok(
      y(`
steps:
  - name: a
    command: x
  - name: b
    command: x
  - name: c
    command: x
    depends: a
`),
    );
    expect(deps(d)).toEqual({ a: [], b: ["a"], c: ["a", "b"] });
  });

  it("lets a chain step opt out of every dependency with an empty depends list", () => {
    const d = ok(y("steps:\n  - name: a\n    command: x\n  - name: b\n    command: x\n    depends: []\n"));
    expect(deps(d)).toEqual({ a: [], b: [] });
  });

  it("adds the step before once when a chain step already depends on it by its id", () => {
    const d = ok(
      y(
        "steps:\n  - name: first step\n    id: first\n    command: x\n  - name: b\n    command: x\n    depends: first\n",
      ),
    );
    expect(deps(d)).toEqual({ "first step": [], b: ["first step"] });
  });

  it("adds no implicit edges in a graph", () => {
    const d = ok(
      y(`
type: graph
steps:
  - name: a
    command: x
  - name: b
    command: x
  - name: c
    command: x
    depends: [a, b]
`),
    );
    expect(deps(d)).toEqual({ a: [], b: [], c: ["a", "b"] });
  });

  it("accepts a step id in depends and stores the step's name", () => {
    const d = ok(
      y(`
type: graph
steps:
  - name: build the thing
    id: build
    command: make
  - name: test
    command: make test
    depends: build
`),
    );
    expect(deps(d)).toEqual({ "build the thing": [], test: ["build the thing"] });
  });

  it("lists a dependency written twice once", () => {
    const d = ok(
      "type: graph\nsteps:\n  - name: a\n    command: x\n  - name: b\n    command: x\n    depends: [a, a]\n",
    );
    expect(deps(d).b).toEqual(["a"]);
  });
});

describe("parseDag: the forms of steps", () => {
  it("reads string steps as commands and names them step_<position>", () => {
    const d = ok("steps:\n  - echo one\n  - echo two\n");
    expect(d.steps.map((s) => [s.name, s.command])).toEqual([
      ["step_1", "echo one"],
      ["step_2", "echo two"],
    ]);
    expect(deps(d)).toEqual({ step_1: [], step_2: ["step_1"] });
  });

  it("makes a parallel group follow the item before it and the next item follow all its members", () => {
    const d = ok(
      y(`
steps:
  - echo one
  - - echo two
    - name: three
      command: echo three
  - echo four
`),
    );
    expect(d.steps.map((s) => s.name)).toEqual(["step_1", "step_2", "three", "step_4"]);
    expect(deps(d)).toEqual({ step_1: [], step_2: ["step_1"], three: ["step_1"], step_4: ["step_2", "three"] });
  });

  it("makes every member of a parallel group follow every member of the group before it", () => {
    const d = ok("steps:\n  - [echo a, echo b]\n  - [echo c, echo d]\n");
    expect(deps(d)).toEqual({
      step_1: [],
      step_2: [],
      step_3: ["step_1", "step_2"],
      step_4: ["step_1", "step_2"],
    });
  });

  it("adds no edges for a parallel group in a graph", () => {
    const d = ok("type: graph\nsteps:\n  - echo one\n  - [echo two, echo three]\n");
    expect(deps(d)).toEqual({ step_1: [], step_2: [], step_3: [] });
  });

  it("reads a map of steps named by their keys, chained in the order written", () => {
    const d = ok(
      y(`
steps:
  build:
    command: make
  test:
    command: make test
`),
    );
    expect(d.steps.map((s) => [s.name, s.command])).toEqual([
      ["build", "make"],
      ["test", "make test"],
    ]);
    expect(deps(d)).toEqual({ build: [], test: ["build"] });
  });

  it.each([
    [
      "skips a number taken by an explicit name",
      "steps:\n  - echo a\n  - name: step_1\n    command: echo b\n  - echo c\n",
      ["step_2", "step_1", "step_3"],
    ],
    [
      "moves on to the next free number",
      "steps:\n  - name: step_2\n    command: echo a\n  - echo b\n  - echo c\n",
      ["step_2", "step_3", "step_4"],
    ],
  ])("generates names that never clash: %s", (_label, yaml, names) => {
    expect(ok(yaml).steps.map((s) => s.name)).toEqual(names);
  });

  it.each([
    ["plain words", "[echo, hello]", "echo hello"],
    ["a word with a space", '[echo, "hello world"]', "echo 'hello world'"],
    ["a single quote", `[echo, "it's"]`, `echo 'it'\\''s'`],
    ["a dollar sign", '[echo, "$HOME"]', "echo '$HOME'"],
    ["an empty word", '[printf, ""]', "printf ''"],
    ["numbers and booleans as written", "[sleep, 1.50, true]", "sleep 1.50 true"],
  ])("joins an array command with %s into one command line", (_label, yaml, want) => {
    expect(step0(ok(`steps:\n  - command: ${yaml}\n`)).command).toBe(want);
  });
});

describe("parseDag: values", () => {
  it.each([
    [
      "a string, split shell-style",
      `params: 'one "x y" z'`,
      [
        { name: null, value: "one" },
        { name: null, value: "x y" },
        { name: null, value: "z" },
      ],
    ],
    [
      "a string mixing K=V and positional words",
      `params: 'A=1 B="two words" three'`,
      [
        { name: "A", value: "1" },
        { name: "B", value: "two words" },
        { name: null, value: "three" },
      ],
    ],
    [
      "a list of K=V strings, maps and positional strings",
      "params:\n  - A=1\n  - B: two\n  - foo",
      [
        { name: "A", value: "1" },
        { name: "B", value: "two" },
        { name: null, value: "foo" },
      ],
    ],
    [
      "a map, values converted to strings as written",
      "params:\n  X: 1.10\n  Y: true\n  Z:\n  N: {a: 1}",
      [
        { name: "X", value: "1.10" },
        { name: "Y", value: "true" },
        { name: "Z", value: "" },
        { name: "N", value: '{"a":1}' },
      ],
    ],
  ])("reads params given as %s", (_label, yaml, want) => {
    expect(ok(`${yaml}\nsteps:\n  - echo\n`).params).toEqual(want);
  });

  it.each([
    ["a map", "env:\n  B: 1\n  A: ${B}2"],
    ["a list of maps", "env:\n  - B: 1\n  - A: ${B}2"],
    ["a list of K=V strings", "env:\n  - B=1\n  - A=${B}2"],
    ["a list mixing both", "env:\n  - B: 1\n  - A=${B}2"],
  ])("reads env given as %s, in the order written", (_label, yaml) => {
    expect(ok(`${yaml}\nsteps:\n  - echo\n`).env).toEqual([
      ["B", "1"],
      ["A", "${B}2"],
    ]);
  });

  it.each([
    ["a comma-separated string", "tags: a, b ,c", ["a", "b", "c"]],
    ["a list", "tags: [x, y]", ["x", "y"]],
  ])("reads tags given as %s", (_label, yaml, want) => {
    expect(ok(`${yaml}\nsteps:\n  - echo\n`).tags).toEqual(want);
  });

  it.each([
    ["a string, split shell-style", `shell: bash -o "pipefail" -e`, ["bash", "-o", "pipefail", "-e"]],
    ["a list", "shell: [/bin/zsh, -e]", ["/bin/zsh", "-e"]],
  ])("reads the DAG shell given as %s", (_label, yaml, want) => {
    expect(ok(`${yaml}\nsteps:\n  - echo\n`).shell).toEqual(want);
  });

  it("reads every step field of the core subset", () => {
    const d = ok(
      y(`
steps:
  - name: s
    id: s1
    description: does s
    command: run
    script: echo hi
    shell: zsh -c
    workingDir: /tmp
    output: OUT
    timeoutSec: "30"
    env: [X=1]
    retryPolicy: { limit: "2", intervalSec: 5 }
    continueOn: { failure: true, skipped: true, exitCode: [3, 4] }
`),
    );
    expect(step0(d)).toEqual({
      name: "s",
      id: "s1",
      description: "does s",
      command: "run",
      script: "echo hi",
      shell: ["zsh", "-c"],
      dir: "/tmp",
      output: "OUT",
      timeoutSec: 30,
      env: [["X", "1"]],
      depends: [],
      retryPolicy: { limit: 2, intervalSec: 5 },
      continueOn: { failure: true, skipped: true, exitCode: [3, 4] },
    });
  });

  it("gives a bare step the defaults", () => {
    expect(ok("steps:\n  - echo\n")).toEqual({
      name: "test",
      tags: [],
      type: "chain",
      env: [],
      params: [],
      steps: [
        {
          name: "step_1",
          command: "echo",
          depends: [],
          env: [],
          retryPolicy: { limit: 0, intervalSec: 0 },
          continueOn: { failure: false, skipped: false, exitCode: [] },
        },
      ],
    });
  });

  it.each([
    ['"failed"', "failed", { failure: true, skipped: false, exitCode: [] }],
    ['"skipped"', "skipped", { failure: false, skipped: true, exitCode: [] }],
    ["an exit code", "{ exitCode: 3 }", { failure: false, skipped: false, exitCode: [3] }],
    ["an exit code as a string", '{ exitCode: "3" }', { failure: false, skipped: false, exitCode: [3] }],
    ["a list of exit codes", "{ exitCode: [1, 2] }", { failure: false, skipped: false, exitCode: [1, 2] }],
  ])("reads continueOn given as %s", (_label, yaml, want) => {
    expect(step0(ok(`steps:\n  - command: x\n    continueOn: ${yaml}\n`)).continueOn).toEqual(want);
  });

  it.each([
    ["dir", "dir: /a", "/a"],
    ["workingDir", "workingDir: /b", "/b"],
  ])("reads the working directory from %s", (_label, yaml, want) => {
    expect(step0(ok(`steps:\n  - command: x\n    ${yaml}\n`)).dir).toBe(want);
  });

  it("treats timeoutSec 0 as no timeout", () => {
    expect(step0(ok("steps:\n  - command: x\n    timeoutSec: 0\n")).timeoutSec).toBeUndefined();
  });

  it("reads output: $NAME as the variable NAME", () => {
    expect(step0(ok("steps:\n  - command: x\n    output: $OUT\n")).output).toBe("OUT");
  });

  it.each([
    ["the spec's name over the stored one", "name: mine\nsteps:\n  - echo\n", "stored", "mine"],
    ["the stored name when the spec has none", "steps:\n  - echo\n", "stored", "stored"],
  ])("takes %s", (_label, yaml, stored, want) => {
    expect(ok(yaml, stored).name).toBe(want);
  });

  it("resolves YAML anchors, aliases and merge keys, keys written beside a merge winning", () => {
    const d = ok(
      y(`
steps:
  - &defaults
    name: a
    command: echo default
    retryPolicy: { limit: 2, intervalSec: 1 }
  - <<: *defaults
    name: b
  - <<: *defaults
    name: c
    command: echo c
`),
    );
    expect(d.steps.map((s) => [s.name, s.command, s.retryPolicy.limit])).toEqual([
      ["a", "echo default", 2],
      ["b", "echo default", 2],
      ["c", "echo c", 2],
    ]);
  });
});

describe("parseDag: errors, each with its line and field", () => {
  it("reports a YAML syntax error with its line and nothing else", () => {
    const errs = errors(
      y(`
steps:
  - name: a
    command: [oops
`),
    );
    expect(errs.map((e) => [e.line, e.message.startsWith("YAML syntax:")])).toEqual([[4, true]]);
  });

  it("reports a duplicate key as a YAML error", () => {
    expect(onlyError("steps:\n  - echo\nsteps:\n  - echo\n")).toEqual([
      3,
      undefined,
      "YAML syntax: Map keys must be unique",
    ]);
  });

  it.each([
    ["a list", "- a\n- b\n"],
    ["a string", "just text\n"],
    ["empty", ""],
  ])("refuses a document that is %s", (_label, yaml) => {
    expect(onlyError(yaml)[2]).toBe("a DAG file must be a mapping of keys (name, steps, ...)");
  });

  it.each([
    ["the DAG", "colour: red\nsteps:\n  - echo\n", 1, "colour"],
    ["a step", "steps:\n  - command: x\n    colour: red\n", 3, "steps[0].colour"],
    ["a step of a map", "steps:\n  a:\n    command: x\n    colour: red\n", 4, "steps.a.colour"],
    [
      "retryPolicy",
      "steps:\n  - command: x\n    retryPolicy:\n      limit: 1\n      colour: red\n",
      5,
      "steps[0].retryPolicy.colour",
    ],
    ["continueOn", "steps:\n  - command: x\n    continueOn: { colour: red }\n", 3, "steps[0].continueOn.colour"],
  ])("reports an unknown key of %s", (_label, yaml, line, field) => {
    expect(onlyError(yaml)).toEqual([line, field, 'unknown key "colour"']);
  });

  it.each(["container", "otel"])("refuses the DAG key %s as not supported yet", (key) => {
    expect(onlyError(`steps:\n  - echo\n${key}: x\n`)).toEqual([3, key, `"${key}" is not supported yet`]);
  });

  it.each([
    ["logDir", "logs are kept by the server (GET .../log), not in a directory"],
    ["restartWaitSec", "dagflare has no process supervisor that restarts a DAG"],
  ])("reads the DAG key %s with a warning that it has no effect", (key, why) => {
    const r = parseDag(`${key}: 5\nsteps:\n  - echo\n`, { name: "t" });
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([{ line: 1, field: key, message: `"${key}" has no effect in dagflare: ${why}` }]);
  });

  it.each(["mailOnError", "shellPackages"])("refuses the step key %s as not supported yet", (key) => {
    expect(onlyError(`steps:\n  - command: x\n    ${key}: x\n`)).toEqual([
      3,
      `steps[0].${key}`,
      `"${key}" is not supported yet`,
    ]);
  });

  it("refuses every key of the schema it does not run as not supported yet", () => {
    const schema = JSON.parse(schemaText) as {
      properties: Record<string, unknown>;
      definitions: { step: { properties: Record<string, unknown> } };
    };
    const dagBuilt = [
      "name",
      "description",
      "tags",
      "env",
      "params",
      "type",
      "shell",
      "steps",
      "workerSelector",
      ...RUN_POLICY_KEYS,
      "precondition",
      "preconditions",
      "timeoutSec",
      "delaySec",
      "maxActiveSteps",
      "handlerOn",
      "maxOutputSize",
      "runConfig",
      "group",
      "maxCleanUpTimeSec",
      "logDir",
      "restartWaitSec",
      "workingDir",
      "dotenv",
      "secrets",
      "mailOn",
      "smtp",
      "errorMail",
      "infoMail",
    ];
    const stepBuilt = [
      "name",
      "id",
      "description",
      "command",
      "script",
      "shell",
      "dir",
      "workingDir",
      "stdout",
      "stderr",
    ];
    const stepBuiltToo = ["depends", "env", "output", "timeoutSec", "retryPolicy", "continueOn", "workerSelector"];
    stepBuiltToo.push("executor", "precondition", "preconditions", "repeatPolicy", "signalOnStop", "parallel");
    stepBuiltToo.push("call", "run", "params");
    for (const key of Object.keys(schema.properties).filter((k) => !dagBuilt.includes(k))) {
      expect(errors(`${key}: x\nsteps:\n  - echo\n`).map((e) => e.message)).toContain(`"${key}" is not supported yet`);
    }
    const stepKeys = Object.keys(schema.definitions.step.properties);
    for (const key of stepKeys.filter((k) => ![...stepBuilt, ...stepBuiltToo].includes(k))) {
      expect(errors(`steps:\n  - command: x\n    ${key}: x\n`).map((e) => e.message)).toContain(
        `"${key}" is not supported yet`,
      );
    }
  });

  it.each([
    ["type agent", "type: agent\nsteps:\n  - echo\n", 1, "type", 'type "agent" is not supported yet'],
    [
      "params with a JSON schema",
      "params:\n  schema: ./p.json\nsteps:\n  - echo\n",
      2,
      "params",
      'params with a JSON schema ("schema", "values") is not supported yet',
    ],
  ])("refuses %s as not supported yet", (_label, yaml, line, field, message) => {
    expect(onlyError(yaml)).toEqual([line, field, message]);
  });

  it.each([
    [
      "a word for timeoutSec",
      "timeoutSec: abc",
      "steps[0].timeoutSec",
      'steps[0].timeoutSec must be an integer >= 0, not "abc"',
    ],
    [
      "a negative timeoutSec",
      "timeoutSec: -1",
      "steps[0].timeoutSec",
      "steps[0].timeoutSec must be an integer >= 0, not -1",
    ],
    [
      "a fraction for timeoutSec",
      "timeoutSec: 1.5",
      "steps[0].timeoutSec",
      "steps[0].timeoutSec must be an integer >= 0, not 1.5",
    ],
    [
      "a negative retry limit",
      "retryPolicy: { limit: -1 }",
      "steps[0].retryPolicy.limit",
      "steps[0].retryPolicy.limit must be an integer >= 0, not -1",
    ],
    [
      "a word for intervalSec",
      "retryPolicy: { intervalSec: soon }",
      "steps[0].retryPolicy.intervalSec",
      'steps[0].retryPolicy.intervalSec must be an integer >= 0, not "soon"',
    ],
    [
      "a list for retryPolicy",
      "retryPolicy: [1]",
      "steps[0].retryPolicy",
      "steps[0].retryPolicy must be a mapping (limit, intervalSec)",
    ],
    [
      "an unknown continueOn shorthand",
      "continueOn: sometimes",
      "steps[0].continueOn",
      'steps[0].continueOn must be "failed", "skipped" or a mapping, not "sometimes"',
    ],
    [
      "a string for continueOn.failure",
      "continueOn: { failure: yes }",
      "steps[0].continueOn.failure",
      "steps[0].continueOn.failure must be true or false",
    ],
    [
      "a word for an exit code",
      "continueOn: { exitCode: [1, x] }",
      "steps[0].continueOn.exitCode[1]",
      'steps[0].continueOn.exitCode[1] must be an integer >= 0, not "x"',
    ],
    ["a mapping for depends", "depends: { a: 1 }", "steps[0].depends", "steps[0].depends must be a string"],
    ["a scalar for env", "env: x", "steps[0].env", "steps[0].env must be a mapping or a list"],
    ["an empty shell", 'shell: ""', "steps[0].shell", "steps[0].shell must name a shell"],
    [
      "an unterminated quote in shell",
      "shell: bash -c 'x",
      "steps[0].shell",
      "steps[0].shell: unterminated single quote",
    ],
  ])("reports %s", (_label, yaml, field, message) => {
    expect(onlyError(`steps:\n  - command: x\n    ${yaml}\n`)).toEqual([3, field, message]);
  });

  it.each([
    ["a mapping for command", "command: { a: 1 }", "steps[0].command", "steps[0].command must be a string"],
    ["a list for script", "script: [a]", "steps[0].script", "steps[0].script must be a string"],
    [
      "a list holding a mapping for command",
      "command: [echo, {a: 1}]",
      "steps[0].command[1]",
      "command items must be strings, numbers or booleans",
    ],
  ])("reports %s in a step", (_label, yaml, field, message) => {
    expect(errors(`steps:\n  - name: s\n    ${yaml}\n`).map((e) => [e.line, e.field, e.message])).toContainEqual([
      3,
      field,
      message,
    ]);
  });

  it.each([
    ["a mapping for tags", "tags: { a: 1 }", "tags", "tags must be a string"],
    ["an unknown type", "type: dag", "type", 'type must be "graph" or "chain", not "dag"'],
    ["a list for description", "description: [a]", "description", "description must be a string"],
    ["an unterminated quote in params", `params: 'a "b'`, "params", "params: unterminated double quote"],
    ["a bad param name", "params: { 1A: x }", "params.1A", 'invalid param name "1A"'],
    ["a bad env name in a mapping", "env: { 1X: y }", "env.1X", 'invalid variable name "1X"'],
    ["a bad env name in a K=V string", "env: [1X=y]", "env[0]", 'invalid variable name "1X"'],
    ["an env item that is not K=V", "env: [justtext]", "env[0]", "env[0] must be KEY=value or a mapping"],
    ["an env value that is a list", "env: { A: [1] }", "env.A", "A must have a scalar value"],
    ["steps that are a string", "steps: echo", "steps", "steps must be a list of steps or a map of name -> step"],
  ])("reports %s at line 1", (_label, yaml, field, message) => {
    const extra = yaml.startsWith("steps:") ? "" : "\nsteps:\n  - echo";
    expect(onlyError(`${yaml}${extra}\n`)).toEqual([1, field, message]);
  });

  it("reports a dependency on an unknown step at the line of that entry", () => {
    const yaml = y(`
type: graph
steps:
  - name: a
    command: x
  - name: b
    command: x
    depends:
      - a
      - x
`);
    expect(onlyError(yaml)).toEqual([9, "steps[1].depends", 'step "b" depends on unknown step "x"']);
  });

  it.each([
    [
      "three steps",
      "type: graph\nsteps:\n  - name: a\n    command: x\n    depends: c\n  - name: b\n    command: x\n    depends: a\n  - name: c\n    command: x\n    depends: b\n",
      [5, "steps[0].depends", "dependency cycle: a -> b -> c -> a"],
    ],
    [
      "a step and itself",
      "type: graph\nsteps:\n  - name: a\n    command: x\n  - name: b\n    command: x\n    depends: b\n",
      [7, "steps[1].depends", "dependency cycle: b -> b"],
    ],
    [
      "an explicit edge and the implicit edges of a chain",
      "steps:\n  - name: a\n    command: x\n    depends: c\n  - name: b\n    command: x\n  - name: c\n    command: x\n",
      [4, "steps[0].depends", "dependency cycle: a -> b -> c -> a"],
    ],
  ])("names the steps of a dependency cycle through %s, in the order they would run", (_label, yaml, want) => {
    expect(onlyError(yaml)).toEqual(want);
  });

  it.each([
    [
      "a duplicate step name",
      "type: graph\nsteps:\n  - name: a\n    command: x\n  - name: a\n    command: y\n",
      [5, "steps[1].name", 'duplicate step name "a"'],
    ],
    [
      "a duplicate step id",
      "type: graph\nsteps:\n  - name: a\n    id: x\n    command: x\n  - name: b\n    id: x\n    command: x\n",
      [7, "steps[1].id", 'duplicate step id "x"'],
    ],
    [
      "a step id that is another step's name",
      "type: graph\nsteps:\n  - name: a\n    command: x\n  - name: b\n    id: a\n    command: x\n",
      [6, "steps[1].id", 'step id "a" is the name of another step'],
    ],
    [
      "a step id that is not an identifier",
      "steps:\n  - command: x\n    id: 1abc\n",
      [3, "steps[0].id", 'step id "1abc" must match ^[a-zA-Z][a-zA-Z0-9_-]*$'],
    ],
    [
      "a reserved step id",
      "steps:\n  - command: x\n    id: env\n",
      [3, "steps[0].id", 'step id "env" is a reserved word'],
    ],
    [
      "a step with neither command nor script",
      "steps:\n  - echo\n  - name: b\n    description: nothing\n",
      [3, "steps[1]", 'step "b" needs a command, a script or a call'],
    ],
    ["an empty string step", "steps:\n  - echo\n  - ''\n", [3, "steps[1]", "a step needs a command or a script"]],
    [
      "an empty step name",
      "steps:\n  - name: ''\n    command: x\n",
      [2, "steps[0].name", "step name must not be empty"],
    ],
    [
      "a step named like dagflare's own steps",
      "steps:\n  - name: (dag preconditions)\n    command: x\n",
      [2, "steps[0].name", 'step name "(dag preconditions)" must not start with "("'],
    ],
    [
      "a step keyed like dagflare's own steps",
      "steps:\n  (check):\n    command: x\n",
      [3, "steps.(check)", 'step name "(check)" must not start with "("'],
    ],
    [
      "a bad output name",
      "steps:\n  - command: x\n    output: not-valid\n",
      [3, "steps[0].output", 'output "not-valid" is not a valid variable name'],
    ],
    ["an empty step list", "steps: []\n", [1, "steps", "a DAG needs at least one step"]],
    ["no steps", "description: x\n", [1, "steps", "steps is required"]],
    ["a nested parallel group", "steps:\n  - - [echo a]\n", [2, "steps[0][0]", "parallel groups cannot be nested"]],
    ["an alias to no anchor", "description: *nope\nsteps:\n  - echo\n", [1, undefined, "alias *nope names no anchor"]],
    [
      "a merge key of something not a mapping",
      "steps:\n  - command: x\n    <<: 5\n",
      [3, undefined, "a merge key (<<) must refer to a mapping"],
    ],
  ])("reports %s", (_label, yaml, want) => {
    const errs = errors(yaml);
    expect(errs.map((e) => [e.line, e.field, e.message])).toContainEqual(want);
  });

  it.each([
    ["has a space", "name: bad name\nsteps:\n  - echo\n"],
    ["has a dot", "name: bad.name\nsteps:\n  - echo\n"],
    ["is 41 characters long", `name: ${"x".repeat(41)}\nsteps:\n  - echo\n`],
  ])("refuses a DAG name that %s", (_label, yaml) => {
    const [line, field, message] = onlyError(yaml);
    expect([line, field]).toEqual([1, "name"]);
    expect(message).toMatch(/^invalid DAG name/);
  });

  it("accepts a DAG name of 40 characters", () => {
    expect(ok(`name: ${"x".repeat(40)}\nsteps:\n  - echo\n`).name).toHaveLength(40);
  });

  it("validates the stored name when the spec has none", () => {
    expect(errors("steps:\n  - echo\n", "bad name").map((e) => e.message)).toEqual([
      'invalid DAG name "bad name": use letters, digits, _ and - (at most 40 characters)',
    ]);
  });

  it("requires a name when neither the spec nor the caller gives one", () => {
    const r = parseDag("steps:\n  - echo\n");
    expect(r.ok ? [] : r.errors.map((e) => [e.field, e.message])).toEqual([["name", "name is required"]]);
  });

  it("reports every problem of a file at once, in the order written", () => {
    const errs = errors(
      y(`
name: ok
otel: x
steps:
  - name: a
    command: echo
    colour: red
  - name: b
    depends: [ghost]
    timeoutSec: abc
  - name: a
    script: echo
`),
    );
    expect(errs.map((e) => [e.line, e.field, e.message])).toEqual([
      [2, "otel", '"otel" is not supported yet'],
      [6, "steps[0].colour", 'unknown key "colour"'],
      [7, "steps[1]", 'step "b" needs a command, a script or a call'],
      [9, "steps[1].timeoutSec", 'steps[1].timeoutSec must be an integer >= 0, not "abc"'],
      [10, "steps[2].name", 'duplicate step name "a"'],
      [8, "steps[1].depends", 'step "b" depends on unknown step "ghost"'],
    ]);
  });
});

describe("parseDag: warnings", () => {
  it("warns, without failing, when both dir and workingDir are set", () => {
    const r = parseDag("steps:\n  - command: x\n    dir: /a\n    workingDir: /b\n", { name: "t" });
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([
      { line: 3, field: "steps[0].dir", message: "both dir and workingDir are set; workingDir is used" },
    ]);
  });

  it("warns when a step of a map is named other than by its key", () => {
    const r = parseDag("steps:\n  build:\n    name: compile\n    command: make\n", { name: "t" });
    expect(r.ok && r.dag.steps[0]?.name).toBe("compile");
    expect(r.warnings.map((w) => w.line)).toEqual([3]);
  });

  it("passes on the YAML parser's warnings", () => {
    expect(parseDag("description: !weird x\nsteps:\n  - echo\n", { name: "t" }).warnings).toEqual([
      { line: 1, message: "YAML: Unresolved tag: !weird" },
    ]);
  });

  it("has no warnings for a plain file", () => {
    expect(parseDag("steps:\n  - echo\n", { name: "t" }).warnings).toEqual([]);
  });
});

describe("parseDag: working directories", () => {
  it("reads the DAG's workingDir and a step's workingDir or its older name dir", () => {
    const d = ok(
      y(`
workingDir: /srv/etl
steps:
  - name: a
    command: pwd
    workingDir: in
  - name: b
    command: pwd
    dir: out
  - name: c
    command: pwd
`),
    );
    expect(d.workingDir).toBe("/srv/etl");
    expect(d.steps.map((s) => s.dir)).toEqual(["in", "out", undefined]);
  });

  it.each([
    [
      "an empty DAG workingDir",
      "workingDir: ''\nsteps:\n  - echo\n",
      [1, "workingDir", "workingDir must not be empty"],
    ],
    [
      "an empty step dir",
      "steps:\n  - command: pwd\n    dir: ' '\n",
      [3, "steps[0].dir", "steps[0].dir must not be empty"],
    ],
    [
      "a workingDir that is not a string",
      "workingDir: [a]\nsteps:\n  - echo\n",
      [1, "workingDir", "workingDir must be a string"],
    ],
  ])("refuses %s", (_label, yaml, want) => {
    expect(onlyError(yaml)).toEqual(want);
  });
});

describe("parseDag: stdout and stderr files", () => {
  it("reads a step's stdout and stderr paths", () => {
    const d = ok("steps:\n  - command: make\n    stdout: logs/out.txt\n    stderr: /var/log/err.txt\n");
    expect(step0(d)).toMatchObject({ stdout: "logs/out.txt", stderr: "/var/log/err.txt" });
  });

  it("refuses an empty stdout path", () => {
    expect(onlyError("steps:\n  - command: make\n    stdout: ''\n")).toEqual([
      3,
      "steps[0].stdout",
      "steps[0].stdout must not be empty",
    ]);
  });
});

describe("parseDag: dotenv", () => {
  it.each([
    ["absent (the default .env)", "", undefined],
    ["one path", "dotenv: .env.prod\n", [".env.prod"]],
    ["a list", "dotenv: [a.env, /etc/b.env]\n", ["a.env", "/etc/b.env"]],
    ["an empty list (off)", "dotenv: []\n", []],
  ])("reads %s", (_label, yaml, want) => {
    expect(ok(`${yaml}steps:\n  - echo\n`).dotenv).toEqual(want);
  });

  it("refuses an empty path", () => {
    expect(onlyError("dotenv: ['']\nsteps:\n  - echo\n")).toEqual([1, "dotenv[0]", "a dotenv path must not be empty"]);
  });
});

describe("parseDag: secrets", () => {
  it("reads each secret's variable, provider and key", () => {
    const d = ok(
      y(`
secrets:
  - name: API_TOKEN
    provider: env
    key: PROD_API_TOKEN
  - name: DB_PASSWORD
    provider: file
    key: secrets/db
steps:
  - echo
`),
    );
    expect(d.secrets).toEqual([
      { name: "API_TOKEN", provider: "env", key: "PROD_API_TOKEN" },
      { name: "DB_PASSWORD", provider: "file", key: "secrets/db" },
    ]);
  });

  it.each([
    [
      "an unknown provider, naming it",
      "secrets:\n  - {name: T, provider: vault, key: k}\n",
      [2, "secrets[0].provider", 'unknown secret provider "vault" (dagflare resolves "env" and "file")'],
    ],
    ["a missing key", "secrets:\n  - {name: T, provider: env}\n", [2, "secrets[0].key", "secrets[0].key is required"]],
    [
      "a bad variable name",
      "secrets:\n  - {name: 1T, provider: env, key: k}\n",
      [2, "secrets[0].name", 'invalid variable name "1T"'],
    ],
    [
      "a duplicate name",
      "secrets:\n  - {name: T, provider: env, key: a}\n  - {name: T, provider: env, key: b}\n",
      [3, "secrets[1].name", 'duplicate secret name "T"'],
    ],
    [
      "an unknown key",
      "secrets:\n  - {name: T, provider: env, key: a, colour: red}\n",
      [2, "secrets[0].colour", 'unknown key "colour"'],
    ],
    [
      "a mapping instead of a list",
      "secrets: {T: x}\n",
      [1, "secrets", "secrets must be a list of {name, provider, key}"],
    ],
    [
      "an env entry of a secret's name",
      "secrets:\n  - {name: T, provider: env, key: a}\nenv:\n  - T: x\n",
      [4, "env.T", "T is a secret; an env entry cannot also set it"],
    ],
  ])("refuses %s", (_label, yaml, want) => {
    expect(onlyError(`${yaml}steps:\n  - echo\n`)).toEqual(want);
  });

  it("warns that options are ignored, and does not warn about ${SECRET} in env", () => {
    const r = parseDag(
      "secrets:\n  - {name: T, provider: env, key: a, options: {region: eu}}\nenv:\n  - AUTH: Bearer ${T}\nsteps:\n  - echo\n",
      { name: "t" },
    );
    expect(r.warnings.map(formatIssue)).toEqual([
      "line 2, secrets[0].options: the env provider takes no options; they are ignored",
    ]);
  });
});
