// `${NAME}` references: JSON paths into output variables, and the check that finds references
// dagflare cannot resolve. PURE.
import type { DagDef, DagIssue, StepDef } from "./types";

/**
 * `${VAR.field.sub}`, `${VAR.items[0].id}`: a path into an output variable holding JSON; or
 * `${ID.stdout}`, a property of the step whose id is ID. The backslashes before it are captured:
 * an odd run escapes it (`\${x.y}` is a literal, as in Dagu).
 */
const JSON_PATH_REF = /(\\*)\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_-]+|\[\d+\])+)\}/g;
const BRACED_REF = /(\\*)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const escaped = (slashes: string) => slashes.length % 2 === 1;

/** A step's properties a `${ID.prop}` reference reads (Dagu's; `exit_code` is its snake_case). */
const STEP_PROPS = new Set([".stdout", ".stderr", ".exitCode", ".exit_code"]);

/**
 * What `${ID.stdout}`, `${ID.stderr}` and `${ID.exitCode}` read of a step with an id: the files
 * on the host of the runner that ran its last attempt, and its exit code.
 */
export interface StepRefValues {
  stdout?: string;
  stderr?: string;
  exitCode?: string;
}

/** Run variables every step gets (the shell sees them; dagflare resolves them in env and dir). */
export const RUN_VARIABLES = ["DAG_NAME", "DAG_RUN_ID", "DAG_RUN_STEP_NAME"];

/**
 * Replaces each `${VAR.path}` whose VAR is a known output holding JSON and whose path leads to a
 * value: a string as it is, anything else as JSON. Anything unresolved stays as written.
 */
export function expandJsonPaths(
  text: string,
  outputs: Record<string, string>,
  steps: Record<string, StepRefValues> = {},
): string {
  return text.replace(JSON_PATH_REF, (whole, slashes: string, name: string, path: string) => {
    if (escaped(slashes)) return whole;
    // A step's property comes first, as in Dagu; one it does not have yet stays as written.
    const step = STEP_PROPS.has(path) && Object.hasOwn(steps, name) ? steps[name] : undefined;
    if (step !== undefined) {
      const value = path === ".stdout" ? step.stdout : path === ".stderr" ? step.stderr : step.exitCode;
      return value === undefined ? whole : slashes + value;
    }
    const raw = Object.hasOwn(outputs, name) ? outputs[name] : undefined;
    if (raw === undefined) return whole;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return whole;
    }
    for (const part of path.match(/\.[^.[]+|\[\d+\]/g) ?? []) {
      const key = part.startsWith("[") ? Number(part.slice(1, -1)) : part.slice(1);
      if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return whole;
      value = (value as Record<string | number, unknown>)[key];
    }
    if (value === undefined) return whole;
    return slashes + (typeof value === "string" ? value : JSON.stringify(value));
  });
}

/**
 * References dagflare will leave as written: a `${NAME}` in an env value or a working directory
 * (which dagflare expands, the shell never sees them) naming no param, env entry, run variable
 * or output; and a `${VAR.path}` anywhere whose VAR is no step's output. Warnings, not errors:
 * the runner's own environment may still hold the name.
 */
export function unresolvedRefs(dag: DagDef): DagIssue[] {
  const outputs = new Set(dag.steps.flatMap((s) => (s.output ? [s.output] : [])));
  const byId = new Map(dag.steps.flatMap((s) => (s.id ? [[s.id, s] as const] : [])));
  const byName = new Map(dag.steps.map((s) => [s.name, s]));
  /** The steps `s` runs after, through its depends. */
  const ancestors = (s: StepDef): Set<string> => {
    const seen = new Set<string>();
    const stack = [...s.depends];
    while (stack.length) {
      const name = stack.pop() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      stack.push(...(byName.get(name)?.depends ?? []));
    }
    return seen;
  };
  /** Who reads a reference: a step, a handler that runs after every step, or none of them yet. */
  let reader: StepDef | "after" | "before" = "before";
  const base = new Set([
    ...RUN_VARIABLES,
    ...dag.params.flatMap((p) => (p.name ? [p.name] : [])),
    ...outputs,
    ...(dag.secrets ?? []).map((s) => s.name),
  ]);
  const issues: DagIssue[] = [];
  const warn = (field: string, name: string, what: string, fate = "it is left as written") =>
    issues.push({
      field,
      message: `\${${name}} ${what}; ${fate}`,
    });
  /** A path on the runner's host: what dagflare cannot resolve, the runner takes from its own environment. */
  const onHost = "the runner takes it from its own environment, or leaves it as written";
  const checkPlain = (text: string, known: Set<string>, field: string, fate?: string) => {
    for (const m of text.matchAll(BRACED_REF)) {
      if (escaped(m[1] as string)) continue;
      const name = m[2] as string;
      if (!known.has(name)) warn(field, name, "is not a param, env entry, run variable or output", fate);
    }
  };
  const checkPaths = (text: string | undefined, field: string) => {
    for (const m of text?.matchAll(JSON_PATH_REF) ?? []) {
      const [, slashes, name, path] = m as unknown as [string, string, string, string];
      if (escaped(slashes)) continue;
      const producer = STEP_PROPS.has(path) ? byId.get(name) : undefined;
      if (producer) {
        const r = reader;
        const runsAfter = r === "after" || (r !== "before" && r !== producer && ancestors(r).has(producer.name));
        if (!runsAfter) {
          const ref = `${name}${path}`;
          const fate = "it is left as written (an exit code reads 0)";
          if (r === "before") warn(field, ref, "is read before any step has run", fate);
          else {
            const what = `is read by step "${(r as StepDef).name}", which does not run after step "${producer.name}"`;
            warn(field, ref, what, `${fate} until that step has run: add it to depends`);
          }
        }
        continue;
      }
      if (!outputs.has(name)) warn(field, `${name}${path}`, `names ${name}, which is no step's output`);
    }
  };
  const dagKnown = new Set(base);
  /** An env value: the runner fills what dagflare cannot from the step's .env files. */
  const fromDotenv = "the runner takes it from the .env files, or leaves it as written";
  for (const [k, v] of dag.env) {
    checkPlain(v, dagKnown, `env.${k}`, fromDotenv);
    dagKnown.add(k);
  }
  if (dag.workingDir !== undefined) {
    checkPlain(dag.workingDir, dagKnown, "workingDir", onHost);
    checkPaths(dag.workingDir, "workingDir");
  }
  const checkStep = (s: StepDef, where: string) => {
    const known = new Set(dagKnown);
    // Each instance of a parallel step gets its ITEM first in its env.
    if (s.fanout) known.add("ITEM");
    for (const [k, v] of s.env) {
      checkPlain(v, known, `${where}.env.${k}`, fromDotenv);
      checkPaths(v, `${where}.env.${k}`);
      known.add(k);
    }
    if (s.dir !== undefined) {
      checkPlain(s.dir, known, `${where}.dir`, onHost);
      checkPaths(s.dir, `${where}.dir`);
    }
    if (typeof s.fanout?.items === "string") {
      // `parallel: ${LIST}` is read by dagflare when the step is ready (src/run/engine/fanout.ts).
      checkPlain(s.fanout.items, known, `${where}.parallel`);
      checkPaths(s.fanout.items, `${where}.parallel`);
    }
    for (const stream of ["stdout", "stderr"] as const) {
      const file = s[stream];
      if (file === undefined) continue;
      checkPlain(file, known, `${where}.${stream}`, onHost);
      checkPaths(file, `${where}.${stream}`);
    }
    checkPaths(s.command, `${where}.command`);
    checkPaths(s.script, `${where}.script`);
  };
  dag.steps.forEach((s) => {
    reader = s;
    checkStep(s, `steps.${s.name}`);
  });
  for (const [kind, s] of Object.entries(dag.handlerOn ?? {})) {
    reader = kind === "init" ? "before" : "after";
    checkStep(s, `handlerOn.${kind}`);
  }
  return issues;
}
