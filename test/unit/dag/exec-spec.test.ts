import { describe, expect, it } from "vitest";
import { buildExecSpec, type ExecContext, expandVars } from "../../../src/dag/exec-spec";
import type { DagDef, StepDef } from "../../../src/dag/types";
import { ExecSpec } from "../../../src/shared/protocol";

function step(over: Partial<StepDef> = {}): StepDef {
  return {
    name: "s",
    command: "echo hi",
    depends: [],
    env: [],
    retryPolicy: { limit: 0, intervalSec: 0 },
    continueOn: { failure: false, skipped: false, exitCode: [] },
    ...over,
  };
}

function dag(over: Partial<DagDef> = {}): DagDef {
  return { name: "d", tags: [], type: "chain", env: [], params: [], steps: [], ...over };
}

function ctx(over: Partial<ExecContext> = {}): ExecContext {
  return { runId: "r1", params: { named: [], positional: [] }, outputs: {}, maxOutputBytes: 100, ...over };
}

describe("expandVars", () => {
  const lookup = (n: string) =>
    new Map([
      ["A", "1"],
      ["B", "two"],
      ["EMPTY", ""],
    ]).get(n);
  it.each([
    ["${A}-$B", "1-two"],
    ["$A$B", "1two"],
    ["${A}B and $AB", "1B and $AB"],
    ["x${EMPTY}y", "xy"],
    ["$UNKNOWN and ${UNKNOWN}", "$UNKNOWN and ${UNKNOWN}"],
    ["$1 ${1} $@ $# $?", "$1 ${1} $@ $# $?"],
    ["$$ $$A", "$$ $$A"],
    ["${A", "${A"],
    ["cost: 5$", "cost: 5$"],
  ])("expands %j to %j", (text, want) => {
    expect(expandVars(text, lookup)).toBe(want);
  });
});

describe("buildExecSpec", () => {
  it("builds the whole spec for a step, valid by the protocol schema", () => {
    const spec = buildExecSpec(
      dag({ shell: ["bash"], env: [["OUT", "/data/${NAME}"]] }),
      step({
        name: "second",
        command: undefined,
        script: 'echo "$GREETING"',
        dir: "${OUT}",
        timeoutSec: 9,
        output: "R",
      }),
      ctx({ params: { named: [["NAME", "world"]], positional: ["pos1"] }, outputs: { GREETING: "hello" } }),
    );
    expect(spec).toEqual({
      script: 'echo "$GREETING"',
      shell: ["bash"],
      args: ["pos1"],
      dir: "/data/world",
      timeoutSec: 9,
      output: "R",
      maxOutputBytes: 100,
      dotenv: [{ path: ".env", required: false }],
      env: {
        DAG_NAME: "d",
        DAG_RUN_ID: "r1",
        DAG_RUN_STEP_NAME: "second",
        NAME: "world",
        GREETING: "hello",
        OUT: "/data/world",
      },
    });
    expect(ExecSpec.safeParse(spec).success).toBe(true);
  });

  it("puts the env together in order: run variables, named params, outputs, DAG env, step env", () => {
    const spec = buildExecSpec(
      dag({ env: [["D", "d"]] }),
      step({ env: [["S", "s"]] }),
      ctx({ params: { named: [["P", "p"]], positional: [] }, outputs: { O: "o" } }),
    );
    expect(Object.keys(spec.env)).toEqual(["DAG_NAME", "DAG_RUN_ID", "DAG_RUN_STEP_NAME", "P", "O", "D", "S"]);
  });

  it.each([
    [
      "a DAG env value, earlier DAG env",
      [
        ["A", "1"],
        ["B", "${A}2"],
      ],
      [],
      "B",
      "12",
    ],
    ["a DAG env value, a named param", [["B", "$P-x"]], [], "B", "p-x"],
    ["a DAG env value, a run variable", [["B", "${DAG_NAME}/${DAG_RUN_ID}"]], [], "B", "d/r1"],
    ["a step env value, DAG env", [["A", "1"]], [["S", "${A}!"]], "S", "1!"],
    ["a step env value, an output", [], [["S", "got ${O}"]], "S", "got o"],
    [
      "a step env value, earlier step env",
      [],
      [
        ["X", "1"],
        ["Y", "${X}${X}"],
      ],
      "Y",
      "11",
    ],
  ] as const)("resolves references in %s", (_label, dagEnv, stepEnv, key, want) => {
    const spec = buildExecSpec(
      dag({ env: dagEnv.map(([k, v]) => [k, v]) }),
      step({ env: stepEnv.map(([k, v]) => [k, v]) }),
      ctx({ params: { named: [["P", "p"]], positional: [] }, outputs: { O: "o" } }),
    );
    expect(spec.env[key]).toBe(want);
  });

  it.each([
    ["an unknown name", "${NOPE}/x", "${NOPE}/x"],
    ["a later DAG env key", "$LATER", "$LATER"],
    ["a name that is an Object property", "${constructor} $toString", "${constructor} $toString"],
  ])("leaves a reference to %s as written", (_label, value, want) => {
    const spec = buildExecSpec(
      dag({
        env: [
          ["A", value],
          ["LATER", "l"],
        ],
      }),
      step(),
      ctx(),
    );
    expect(spec.env.A).toBe(want);
  });

  it("lets a later entry replace an earlier one of the same name", () => {
    const spec = buildExecSpec(
      dag({ env: [["X", "dag"]] }),
      step({ env: [["X", "step:${X}"]] }),
      ctx({ params: { named: [["X", "param"]], positional: [] } }),
    );
    expect(spec.env.X).toBe("step:dag");
  });

  it("keeps a variable named __proto__ as data", () => {
    const spec = buildExecSpec(dag({ env: [["__proto__", "x"]] }), step(), ctx());
    expect(Object.hasOwn(spec.env, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(spec.env)).toBe(Object.prototype);
  });

  it.each([
    ["the step's shell", ["zsh"], ["bash", "-e"], ["zsh"]],
    ["the DAG's shell", undefined, ["bash", "-e"], ["bash", "-e"]],
    ["the runner's default (no shell: its host's $SHELL, else sh)", undefined, undefined, []],
  ])("runs the step with %s when that is the closest one set", (_label, stepShell, dagShell, want) => {
    const spec = buildExecSpec(
      dag(dagShell ? { shell: dagShell } : {}),
      step(stepShell ? { shell: stepShell } : {}),
      ctx(),
    );
    expect(spec.shell).toEqual(want);
  });

  it.each([
    ["#!/usr/bin/env python3\nprint(1)\n", undefined, undefined, ["/usr/bin/env", "python3"]],
    ["#! /bin/bash -eu\r\necho hi\n", undefined, undefined, ["/bin/bash", "-eu"]],
    ['#!/usr/bin/env "my interp" -x\n', undefined, undefined, ["/usr/bin/env", "my interp", "-x"]],
    ["#!/usr/bin/env python3\nprint(1)\n", undefined, ["bash"], ["/usr/bin/env", "python3"]],
    ["#!/usr/bin/env python3\nprint(1)\n", ["bash"], undefined, undefined],
    ["echo no shebang\n", undefined, undefined, undefined],
    ["#!\necho empty\n", undefined, undefined, undefined],
  ])("runs script %j (step shell %j, DAG shell %j) with the interpreter %j", (script, stepShell, dagShell, want) => {
    const spec = buildExecSpec(
      dag(dagShell ? { shell: dagShell } : {}),
      step({ command: undefined, script, ...(stepShell ? { shell: stepShell } : {}) }),
      ctx(),
    );
    expect(spec.interpreter).toEqual(want);
  });

  it("runs a script with the step's command, not its #! line, when both are set", () => {
    const spec = buildExecSpec(dag(), step({ command: "python3 -u", script: "#!/bin/bash\necho hi\n" }), ctx());
    expect(spec.interpreter).toBeUndefined();
  });

  it("leaves stdout and stderr paths with backticks to the runner, as written, so no param becomes a command", () => {
    const spec = buildExecSpec(
      dag(),
      step({ stdout: "/logs/${NAME}-`date +%F`.out", stderr: "/logs/${NAME}.err" }),
      ctx({ params: { named: [["NAME", "`id`"]], positional: [] } }),
    );
    expect(spec.stdoutFile).toBe("/logs/${NAME}-`date +%F`.out");
    expect(spec.stderrFile).toBe("/logs/`id`.err");
    expect(spec.shellFiles).toEqual(["stdout"]);
  });

  it("passes positional params as args and never named ones", () => {
    const spec = buildExecSpec(dag(), step(), ctx({ params: { named: [["A", "1"]], positional: ["x", "y z"] } }));
    expect(spec.args).toEqual(["x", "y z"]);
  });

  it("leaves the command to the shell, unexpanded", () => {
    const spec = buildExecSpec(dag({ env: [["A", "1"]] }), step({ command: "echo ${A} $1" }), ctx());
    expect(spec.command).toBe("echo ${A} $1");
  });

  it("sets no optional field the step does not have", () => {
    const spec = buildExecSpec(dag(), step(), ctx());
    // dotenv: the default .env, which the runner loads only when it exists.
    expect(Object.keys(spec).sort()).toEqual(["args", "command", "dotenv", "env", "maxOutputBytes", "shell"]);
  });

  it("gives every step the DAG's maxCleanUpTimeSec, 0 included", () => {
    expect(buildExecSpec(dag({ maxCleanUpTimeSec: 30 }), step(), ctx()).cleanUpSec).toBe(30);
    expect(buildExecSpec(dag({ maxCleanUpTimeSec: 0 }), step(), ctx()).cleanUpSec).toBe(0);
  });
});

describe("buildExecSpec: working directories", () => {
  it.each([
    ["the DAG's workingDir when the step has none", "/srv/etl", undefined, "/srv/etl"],
    ["a relative step dir under the DAG's workingDir", "/srv/etl", "data/in", "/srv/etl/data/in"],
    ["an absolute step dir as it is", "/srv/etl", "/tmp/x", "/tmp/x"],
    ["a home-relative step dir as it is", "/srv/etl", "~/work", "~/work"],
    ["a relative DAG workingDir as written, for the runner to resolve", "etl", "data", "etl/data"],
    ["the step's dir alone without a DAG workingDir", undefined, "data", "data"],
    ["variables of the run expanded in both", "/srv/${DAG_NAME}", "${DAY}", "/srv/d/2024"],
  ])("gives %s", (_label, workingDir, dir, want) => {
    const spec = buildExecSpec(
      dag(workingDir === undefined ? {} : { workingDir }),
      step(dir === undefined ? {} : { dir }),
      ctx({ params: { named: [["DAY", "2024"]], positional: [] } }),
    );
    expect(spec.dir).toBe(want);
  });

  it("gives no dir when neither the DAG nor the step has one", () => {
    expect(buildExecSpec(dag(), step(), ctx()).dir).toBeUndefined();
  });
});

describe("buildExecSpec: stdout and stderr files", () => {
  it("passes the files on with the run's variables expanded, left relative for the runner", () => {
    const spec = buildExecSpec(
      dag({ workingDir: "/srv" }),
      step({ stdout: "out-${DAG_RUN_ID}.log", stderr: "/var/err.log" }),
      ctx(),
    );
    expect(spec).toMatchObject({ dir: "/srv", stdoutFile: "out-r1.log", stderrFile: "/var/err.log" });
    expect(ExecSpec.safeParse(spec).success).toBe(true);
  });
});

describe("buildExecSpec: dotenv", () => {
  it("asks for the default .env, under the DAG's workingDir, loaded only if it exists", () => {
    expect(buildExecSpec(dag({ workingDir: "/srv" }), step(), ctx()).dotenv).toEqual([
      { path: "/srv/.env", required: false },
    ]);
    expect(buildExecSpec(dag(), step(), ctx()).dotenv).toEqual([{ path: ".env", required: false }]);
  });

  it("requires the files the DAG names, relative ones under its workingDir", () => {
    const spec = buildExecSpec(dag({ workingDir: "/srv", dotenv: ["a.env", "/etc/${DAG_NAME}.env"] }), step(), ctx());
    expect(spec.dotenv).toEqual([
      { path: "/srv/a.env", required: true },
      { path: "/etc/d.env", required: true },
    ]);
  });

  it("loads none when dotenv is an empty list", () => {
    expect(buildExecSpec(dag({ dotenv: [] }), step(), ctx()).dotenv).toBeUndefined();
  });
});

describe("buildExecSpec: secrets", () => {
  const secrets = [
    { name: "TOKEN", provider: "env" as const, key: "PROD_TOKEN" },
    { name: "PASS", provider: "file" as const, key: "secrets/db" },
  ];

  it("passes the references on, never a value, a relative file under the DAG's workingDir", () => {
    const spec = buildExecSpec(dag({ workingDir: "/srv", secrets }), step(), ctx());
    expect(spec.secrets).toEqual([
      { name: "TOKEN", provider: "env", key: "PROD_TOKEN" },
      { name: "PASS", provider: "file", key: "/srv/secrets/db" },
    ]);
    expect(spec.env.TOKEN).toBeUndefined();
    expect(ExecSpec.safeParse(spec).success).toBe(true);
  });

  it("leaves an env value that uses a secret for the runner to expand, with what it depends on", () => {
    const spec = buildExecSpec(
      dag({
        secrets,
        env: [
          ["AUTH", "Bearer ${TOKEN}"],
          ["HEADER", "Authorization: $AUTH"],
          ["PLAIN", "${DAG_NAME}"],
        ],
      }),
      step(),
      ctx(),
    );
    expect(spec.env).toMatchObject({ AUTH: "Bearer ${TOKEN}", HEADER: "Authorization: $AUTH", PLAIN: "d" });
    expect(spec.shellEnv).toEqual(["AUTH", "HEADER"]);
  });
});

describe("buildExecSpec: names from .env files", () => {
  it("leaves a value naming what dagflare does not know, whole, for the runner to expand", () => {
    const spec = buildExecSpec(
      dag({
        env: [
          ["URL", "http://${DB_HOST}/${DAG_NAME}"],
          ["KNOWN", "${DAG_NAME}"],
        ],
      }),
      step({ env: [["FULL", "$URL?x"]] }),
      ctx(),
    );
    expect(spec.env).toMatchObject({ URL: "http://${DB_HOST}/${DAG_NAME}", KNOWN: "d", FULL: "$URL?x" });
    expect(spec.shellEnv).toEqual(["URL", "FULL"]);
  });
});
