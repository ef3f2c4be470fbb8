import { describe, expect, it } from "vitest";
import { buildExecSpec } from "../../../src/dag/exec-spec";
import { parseDag } from "../../../src/dag/parse";
import { expandJsonPaths } from "../../../src/dag/refs";
import { formatIssue } from "../../../src/dag/types";

const outputs = {
  CFG: JSON.stringify({ db: { host: "db1", port: 5432 }, items: [{ id: "a" }, { id: "b" }], flag: true }),
  TEXT: "not json",
};

describe("expandJsonPaths", () => {
  it.each([
    ["host=${CFG.db.host}", "host=db1"],
    ["port=${CFG.db.port}", "port=5432"],
    ["${CFG.items[1].id}", "b"],
    ["${CFG.db}", '{"host":"db1","port":5432}'],
    ["${CFG.flag}", "true"],
    ["${CFG.db.missing} ${CFG.items[5].id}", "${CFG.db.missing} ${CFG.items[5].id}"],
    ["${TEXT.field} ${NOPE.x}", "${TEXT.field} ${NOPE.x}"],
    ["${CFG} $CFG.db.host", "${CFG} $CFG.db.host"],
    ["${CFG.constructor} ${CFG.__proto__}", "${CFG.constructor} ${CFG.__proto__}"],
  ])("%s -> %s", (text, want) => {
    expect(expandJsonPaths(text, outputs)).toBe(want);
  });
});

describe("JSON paths and maxOutputSize in the exec spec", () => {
  it("resolves ${VAR.path} in the command, script, env and dir, and caps outputs at maxOutputSize", () => {
    const r = parseDag(
      `maxOutputSize: 2048
steps:
  - name: a
    command: echo '{"db":{"host":"db1"}}'
    output: CFG
  - name: b
    command: ping \${CFG.db.host}
    dir: /srv/\${CFG.db.host}
    env:
      - HOST: \${CFG.db.host}
`,
      { name: "t" },
    );
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    expect(r.warnings).toEqual([]);
    expect(r.dag.maxOutputSize).toBe(2048);
    const b = r.dag.steps[1];
    if (!b) throw new Error("no step b");
    const spec = buildExecSpec(r.dag, b, {
      runId: "r",
      params: { named: [], positional: [] },
      outputs: { CFG: '{"db":{"host":"db1"}}' },
      maxOutputBytes: 2048,
    });
    expect(spec).toMatchObject({ command: "ping db1", dir: "/srv/db1", maxOutputBytes: 2048 });
    expect(spec.env.HOST).toBe("db1");
  });
});

describe("unresolved references", () => {
  it("warns about ${NAME} in env and dir that nothing defines, and ${VAR.path} of no output", () => {
    const r = parseDag(
      `params: DAY=1
env:
  - A: \${DAY}-\${DAG_RUN_ID}
  - B: \${A}/\${MISSING}
steps:
  - name: s
    command: echo \${OUT.x} \${HOME}
    dir: \${B}/\${NOWHERE}
`,
      { name: "t" },
    );
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    expect(r.warnings.map(formatIssue)).toEqual([
      "env.B: ${MISSING} is not a param, env entry, run variable or output; the runner takes it from the .env files, or leaves it as written",
      "steps.s.dir: ${NOWHERE} is not a param, env entry, run variable or output; the runner takes it from its own environment, or leaves it as written",
      "steps.s.command: ${OUT.x} names OUT, which is no step's output; it is left as written",
    ]);
  });
});

describe("backticks in env values and param defaults", () => {
  const spec = (yaml: string, params?: string) => {
    const r = parseDag(yaml, { name: "t" });
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    const named = r.dag.params.flatMap((p) => (p.name ? [[p.name, p.value] as [string, string]] : []));
    if (params) named[0] = ["DAY", params];
    return buildExecSpec(r.dag, r.dag.steps[0] as never, {
      runId: "r",
      params: { named, positional: [] },
      outputs: { OUT: "`rm -rf /`" },
      maxOutputBytes: 10,
    });
  };

  it("hands the runner's shell, in order, the env values that use backticks or such a value", () => {
    const s = spec(`params: DAY=\`date +%F\`
env:
  - TODAY: "\`date +%Y\`"
  - PLAIN: x
  - DIR: /data/\${TODAY}/\${PLAIN}
  - COPY: \${OUT}
steps:
  - echo $DIR
`);
    expect(s.shellEnv).toEqual(["DAY", "TODAY", "DIR"]);
    expect(s.env).toMatchObject({ TODAY: "`date +%Y`", DIR: "/data/${TODAY}/${PLAIN}", COPY: "`rm -rf /`" });
  });

  it("never hands the shell a start call's params or an output", () => {
    const s = spec("params: DAY=today\nsteps:\n  - echo $DAY\n", "`id`");
    expect(s.env.DAY).toBe("`id`");
    expect(s.shellEnv).toBeUndefined();
  });
});

describe("step references: ${ID.stdout}, ${ID.stderr}, ${ID.exitCode}", () => {
  const yaml = `type: graph
steps:
  - id: build
    command: make
  - name: report
    depends: [build]
    command: cat \${build.stdout} \${build.stderr}; exit \${build.exitCode}
    env:
      - CODE: \${build.exit_code}
    stdout: \${build.stdout}.copy
`;

  it("validates them without a warning when ID is a step's id", () => {
    const r = parseDag(yaml, { name: "t" });
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    expect(r.warnings.map(formatIssue)).toEqual([]);
  });

  it("resolves them from the step's last attempt in the command, env and file paths", () => {
    const r = parseDag(yaml, { name: "t" });
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    const spec = buildExecSpec(r.dag, r.dag.steps[1] as never, {
      runId: "r",
      params: { named: [], positional: [] },
      outputs: {},
      maxOutputBytes: 10,
      steps: { build: { stdout: "/logs/build.out", stderr: "/logs/build.err", exitCode: "2" } },
    });
    expect(spec.command).toBe("cat /logs/build.out /logs/build.err; exit 2");
    expect(spec.env.CODE).toBe("2");
    expect(spec.stdoutFile).toBe("/logs/build.out.copy");
  });

  it("warns when the reading step does not run after the step it reads", () => {
    const r = parseDag(
      `type: graph
handlerOn:
  init:
    command: echo \${build.exitCode}
  exit:
    command: cat \${build.stderr}
steps:
  - id: build
    command: make
  - name: early
    command: cat \${build.stdout}
`,
      { name: "t" },
    );
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    expect(r.warnings.map(formatIssue)).toEqual([
      'steps.early.command: ${build.stdout} is read by step "early", which does not run after step "build"; it is left as written (an exit code reads 0) until that step has run: add it to depends',
      "handlerOn.init.command: ${build.exitCode} is read before any step has run; it is left as written (an exit code reads 0)",
    ]);
  });

  it("leaves a file reference as written while the step has no file yet", () => {
    expect(expandJsonPaths("${build.stdout} ${build.exitCode}", {}, { build: { exitCode: "0" } })).toBe(
      "${build.stdout} 0",
    );
  });

  it("leaves an escaped reference as written, and does not warn about it", () => {
    const r = parseDag(
      "params:\n  - x: 1\nsteps:\n  - id: a\n    command: echo \\${params.x} \\${a.stdout} \\${CFG.y}\n",
      { name: "t" },
    );
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    expect(r.warnings.map(formatIssue)).toEqual([]);
    expect(r.dag.steps[0]?.command).toBe("echo \\${params.x} \\${a.stdout} \\${CFG.y}");
    expect(expandJsonPaths("\\${a.stdout}", {}, { a: { stdout: "/f" } })).toBe("\\${a.stdout}");
  });
});
