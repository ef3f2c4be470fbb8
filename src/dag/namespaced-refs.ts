// Current Dagu's namespaced references, `${params.NAME}`, `${env.NAME}`,
// `${steps.ID.outputs.NAME}` and `${context.dag.name}`-style run context, rewritten on load into
// the `${NAME}` reference each stands for, so that one resolver (src/shared/vars.ts, refs.ts,
// the runner's shell) serves both forms and nothing after the parser knows there were two.
// PURE.
import { isMap, isScalar, isSeq, LineCounter, type Node, type Scalar, type YAMLMap } from "yaml";
import { Issues } from "./issues";
import { camelSpelling } from "./spellings";
import { readParams } from "./values";
import { child, isAbsent, keyOf, scalarText } from "./yaml-nodes";

/**
 * A reference with a namespace root. The backslashes before it are captured: an odd run escapes
 * it (Dagu's rule), and the reference is then left as written.
 */
const NAMESPACED = /(\\*)\$\{(params|env|steps|context|consts|foreach)\.([^}]*)\}/g;
/** Dagu's rule for a name inside a reference. */
const REF_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The run context dagflare has, as the run variables every step gets (refs.ts). */
const CONTEXT: Record<string, string> = {
  "dag.name": "DAG_NAME",
  "run.id": "DAG_RUN_ID",
  "step.name": "DAG_RUN_STEP_NAME",
};

/**
 * Current Dagu's short aliases of the same context (`${run.id}`). In dagflare's older form they
 * read as JSON paths into an output variable (`${run.id}` into an output named `run`): an output
 * of that name keeps that reading.
 */
const CONTEXT_ALIAS = /(\\*)\$\{(dag\.name|run\.id|step\.name)\}/g;

/** A `${steps.ID.outputs.NAME}` read by a step: its order is checked once the graph is known. */
export interface StepOutputRef {
  /** The reading step's field (`steps[2]`, `steps.build`), as steps.ts names its entries. */
  owner: string;
  producerId: string;
  node: Node;
  field: string;
  text: string;
}

interface StepInfo {
  field: string;
  output?: string;
}

/**
 * Rewrites every namespaced reference in the string values of a DAG document (keys are never
 * touched) and reports those that cannot stand for anything. Returns the step output references
 * for `checkStepRefOrder`.
 */
export function foldNamespacedRefs(root: YAMLMap, issues: Issues): StepOutputRef[] {
  const steps = stepIds(root);
  const paramsNode = child(root, "params");
  const params = new Set(
    isAbsent(paramsNode)
      ? []
      : readParams(paramsNode, "params", new Issues(new LineCounter())).flatMap((p) => (p.name ? [p.name] : [])),
  );
  const outputs = new Set<string>();
  forEachStep(child(root, "steps"), (step) => {
    const output = isMap(step) ? scalarText(child(step, "output")) : undefined;
    if (output !== undefined) outputs.add(output.replace(/^\$/, ""));
  });
  const found: StepOutputRef[] = [];
  const seen = new Set<unknown>();

  const rewrite = (node: Scalar, field: string, owner: string | undefined) => {
    const text = node.value as string;
    const out = text.replace(NAMESPACED, (whole, slashes: string, root: string, path: string) => {
      if (slashes.length % 2 === 1) return whole;
      const ref = `\${${root}.${path}}`;
      const bad = (why: string) => {
        issues.at(node, field, `${ref} ${why}`);
        return whole;
      };
      const parts = path.split(".");
      const [first, second, third] = parts;
      switch (root) {
        case "params":
          if (parts.length !== 1 || !REF_NAME.test(path)) return bad("is not a reference: write ${params.NAME}");
          if (!params.has(path)) {
            issues.warn(node, field, `${ref} names no param of this DAG; a start call may give it`);
          }
          return `${slashes}\${${path}}`;
        case "env":
          if (parts.length !== 1 || !ENV_NAME.test(path)) return bad("is not a reference: write ${env.NAME}");
          return `${slashes}\${${path}}`;
        case "steps": {
          if (
            parts.length !== 3 ||
            second !== "outputs" ||
            !REF_NAME.test(first ?? "") ||
            !REF_NAME.test(third ?? "")
          ) {
            return bad("is not a reference: write ${steps.ID.outputs.NAME}");
          }
          const producer = steps.get(first as string);
          if (!producer) return bad(`names no step: no step has id "${first}"`);
          if (producer.output !== third) {
            const has = producer.output ? `its output is ${producer.output}` : "it has no output";
            return bad(`names no output of step ${first}: ${has}`);
          }
          if (owner === undefined || owner === "handlerOn.init") {
            return bad("is read before any step has run: only steps and the handlers after them see step outputs");
          }
          if (owner === producer.field) return bad("is the output of the step that reads it");
          found.push({ owner, producerId: first as string, node, field, text: ref });
          return `${slashes}\${${third}}`;
        }
        case "context": {
          const variable = CONTEXT[path];
          if (variable === undefined) {
            return bad(
              `is not supported yet (dagflare has ${Object.keys(CONTEXT)
                .map((k) => `\${context.${k}}`)
                .join(", ")})`,
            );
          }
          return `${slashes}\${${variable}}`;
        }
        default:
          return bad(`is not supported yet (dagflare has no ${root})`);
      }
    });
    const aliased = out.replace(CONTEXT_ALIAS, (whole, slashes: string, path: string) => {
      const variable = CONTEXT[path];
      const root = path.split(".")[0] as string;
      if (slashes.length % 2 === 1 || variable === undefined || outputs.has(root)) return whole;
      return `${slashes}\${${variable}}`;
    });
    if (aliased !== text) node.value = aliased;
  };

  const walk = (node: unknown, field: string, owner: string | undefined): void => {
    if (isScalar(node)) {
      if (typeof node.value === "string") rewrite(node, field, owner);
      return;
    }
    if (seen.has(node)) return;
    seen.add(node);
    if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, `${field}[${i}]`, owner);
      });
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const key = keyOf(pair);
        walk(pair.value, field ? `${field}.${camelSpelling(key) ?? key}` : (camelSpelling(key) ?? key), owner);
      }
    }
  };

  for (const pair of root.items) {
    const key = camelSpelling(keyOf(pair)) ?? keyOf(pair);
    if (key === "steps") forEachStep(pair.value, (step, field) => walk(step, field, field));
    else if (key === "handlerOn" && isMap(pair.value)) {
      for (const h of pair.value.items) walk(h.value, `handlerOn.${keyOf(h)}`, `handlerOn.${keyOf(h)}`);
    } else walk(pair.value, key, undefined);
  }
  return found;
}

/** Each step of `steps` with the field steps.ts gives it: `steps[i]`, `steps[i][j]`, `steps.key`. */
function forEachStep(node: unknown, visit: (step: unknown, field: string) => void): void {
  if (isMap(node)) {
    for (const pair of node.items) visit(pair.value, `steps.${keyOf(pair)}`);
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (isSeq(item)) {
        item.items.forEach((member, j) => {
          visit(member, `steps[${i}][${j}]`);
        });
      } else visit(item, `steps[${i}]`);
    });
  }
}

/** Step id -> the step's field and output variable, read from the YAML before the readers run. */
function stepIds(root: YAMLMap): Map<string, StepInfo> {
  const ids = new Map<string, StepInfo>();
  forEachStep(child(root, "steps"), (step, field) => {
    if (!isMap(step)) return;
    const id = scalarText(child(step, "id"));
    if (id === undefined) return;
    const output = scalarText(child(step, "output"))?.replace(/^\$/, "");
    ids.set(id, output === undefined ? { field } : { field, output });
  });
  return ids;
}

/**
 * A step reads another's output only after it: the reading step must depend on the producing
 * one, directly or through other steps (Dagu's rule; a reference does not add an edge).
 */
export function checkStepRefOrder(
  refs: StepOutputRef[],
  entries: ReadonlyArray<{ field: string; def: { name: string; id?: string; depends: string[] } }>,
  issues: Issues,
): void {
  const byName = new Map(entries.map((e) => [e.def.name, e.def]));
  for (const ref of refs) {
    const owner = entries.find((e) => e.field === ref.owner)?.def;
    const producer = entries.find((e) => e.def.id === ref.producerId)?.def;
    // Handlers run after every step; a step the readers refused was reported already.
    if (!owner || !producer) continue;
    const before = new Set<string>();
    const stack = [...owner.depends];
    while (stack.length) {
      const name = stack.pop() as string;
      if (before.has(name)) continue;
      before.add(name);
      stack.push(...(byName.get(name)?.depends ?? []));
    }
    if (!before.has(producer.name)) {
      issues.at(
        ref.node,
        ref.field,
        `${ref.text} is read by step "${owner.name}", which does not run after step "${producer.name}": add it to depends`,
      );
    }
  }
}
