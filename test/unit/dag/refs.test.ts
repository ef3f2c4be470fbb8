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
      "env.B: ${MISSING} is not a param, env entry, run variable or output; it is left as written",
      "steps.s.dir: ${NOWHERE} is not a param, env entry, run variable or output; it is left as written",
      "steps.s.command: ${OUT.x} names OUT, which is no step's output; it is left as written",
    ]);
  });
});
