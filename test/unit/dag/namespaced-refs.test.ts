// Current Dagu's namespaced references read as the `${NAME}` references they stand for.
import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";

function dag(yaml: string) {
  const r = parseDag(yaml, { name: "d" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r;
}

function errors(yaml: string) {
  const r = parseDag(yaml, { name: "d" });
  if (r.ok) throw new Error("expected errors");
  return r.errors;
}

const PRODUCER = "steps:\n  - id: build\n    run: echo v1\n    output: TAG\n";

describe("namespaced references", () => {
  it("read ${params.x} and ${env.X} as ${x} and ${X} in commands, env and dir", () => {
    const r = dag(
      "params:\n  - day: monday\nenv:\n  - BASE: /data/${params.day}\nsteps:\n  - run: echo ${params.day} ${env.BASE}\n    working_dir: ${env.BASE}\n    env:\n      - OUT: ${env.BASE}/${params.day}\n",
    );
    expect(r.dag.env).toEqual([["BASE", "/data/${day}"]]);
    expect(r.dag.steps[0]).toMatchObject({
      command: "echo ${day} ${BASE}",
      dir: "${BASE}",
      env: [["OUT", "${BASE}/${day}"]],
    });
    expect(r.warnings).toEqual([]);
  });

  it("read ${steps.ID.outputs.NAME} as the output variable of the step with that id", () => {
    const r = dag(
      `${PRODUCER}  - run: echo \${steps.build.outputs.TAG}\n    env:\n      - T: \${steps.build.outputs.TAG}\n`,
    );
    expect(r.dag.steps[1]).toMatchObject({ command: "echo ${TAG}", env: [["T", "${TAG}"]] });
  });

  it("resolve in preconditions, repeat conditions, parallel items and call params too", () => {
    const r = dag(
      `${PRODUCER}  - run: echo
    preconditions:
      - condition: \${steps.build.outputs.TAG}
        expected: v1
    repeat_policy:
      repeat: until
      condition: \${env.STATE}
      expected: done
      interval_sec: 1
  - call: child
    params: TAG=\${steps.build.outputs.TAG}
    depends: [build]
`,
    );
    expect(r.dag.steps[1]?.preconditions).toEqual([expect.objectContaining({ condition: "${TAG}" })]);
    expect(r.dag.steps[1]?.repeatPolicy?.condition).toMatchObject({ condition: "${STATE}" });
    expect(r.dag.steps[2]?.call?.params).toEqual([{ name: "TAG", value: "${TAG}" }]);
  });

  it("read the run context as the run variables", () => {
    const r = dag("steps:\n  - run: echo ${context.dag.name} ${context.run.id} ${context.step.name}\n");
    expect(r.dag.steps[0]?.command).toBe("echo ${DAG_NAME} ${DAG_RUN_ID} ${DAG_RUN_STEP_NAME}");
  });

  it("read current Dagu's short context aliases, unless an output has the name of their root", () => {
    expect(dag("steps:\n  - run: echo ${run.id} ${dag.name} ${step.name}\n").dag.steps[0]?.command).toBe(
      "echo ${DAG_RUN_ID} ${DAG_NAME} ${DAG_RUN_STEP_NAME}",
    );
    const r = dag("steps:\n  - run: cat run.json\n    output: run\n  - run: echo ${run.id}\n");
    expect(r.dag.steps[1]?.command).toBe("echo ${run.id}");
  });

  it("leave an escaped reference as written", () => {
    const r = dag("steps:\n  - run: echo \\${params.x} \\\\${params.x}\n");
    expect(r.dag.steps[0]?.command).toBe("echo \\${params.x} \\\\${x}");
  });

  it("warn about a param the DAG does not declare", () => {
    const r = dag("steps:\n  - run: echo ${params.nope}\n");
    expect(r.warnings).toEqual([
      expect.objectContaining({ line: 2, field: "steps[0].run", message: expect.stringContaining("${params.nope}") }),
    ]);
  });
});

describe("a namespaced reference that stands for nothing", () => {
  it.each([
    ["a step id no step has", "${steps.nope.outputs.TAG}", 'names no step: no step has id "nope"'],
    [
      "an output the step does not have",
      "${steps.build.outputs.OTHER}",
      "names no output of step build: its output is TAG",
    ],
    ["a path of another shape", "${steps.build.TAG}", "is not a reference: write ${steps.ID.outputs.NAME}"],
    ["a param path", "${params.a.b}", "is not a reference: write ${params.NAME}"],
    ["a context dagflare lacks", "${context.trigger.type}", "is not supported yet"],
    ["consts", "${consts.region}", "is not supported yet (dagflare has no consts)"],
  ])("is refused at its line: %s", (_, ref, message) => {
    expect(errors(`${PRODUCER}  - run: echo ${ref}\n`)).toEqual([
      expect.objectContaining({ line: 5, field: "steps[1].run", message: expect.stringContaining(message) }),
    ]);
  });

  it("is refused in a step that does not run after the producing step", () => {
    const yaml = `type: graph\n${PRODUCER}  - name: early\n    run: echo \${steps.build.outputs.TAG}\n`;
    expect(errors(yaml)).toEqual([
      expect.objectContaining({
        line: 7,
        field: "steps[1].run",
        message:
          '${steps.build.outputs.TAG} is read by step "early", which does not run after step "build": add it to depends',
      }),
    ]);
  });

  it("is refused where no step output is known yet: DAG env and the step itself", () => {
    expect(errors(`env:\n  - T: \${steps.build.outputs.TAG}\n${PRODUCER}`)[0]).toMatchObject({
      line: 2,
      field: "env[0].T",
    });
    expect(
      errors("steps:\n  - id: build\n    run: echo ${steps.build.outputs.TAG}\n    output: TAG\n")[0],
    ).toMatchObject({
      message: "${steps.build.outputs.TAG} is the output of the step that reads it",
    });
  });
});
