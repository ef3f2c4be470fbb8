// YAML text -> DagDef, with every problem reported at once, each with its line and field.
// PURE. The shapes follow Dagu's schema (../shared/contracts/dagu-dag.schema.json); a key of the
// schema that dagflare does not run yet is refused as "not supported yet", never ignored.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { checkGraph } from "./graph";
import { Issues } from "./issues";
import type { DagDef, DagIssue, ParseResult, StepDef } from "./types";
import { readEnv, readParams, readShell, readStringList } from "./values";

export const DAG_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
export const DAG_NAME_MAX = 40;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const DAG_KEYS = new Set(["name", "description", "tags", "env", "params", "type", "shell", "steps"]);
/** Keys of Dagu's schema that are valid but not run by dagflare yet. */
const DAG_LATER = new Set([
  "group",
  "dotenv",
  "workingDir",
  "schedule",
  "skipIfSuccessful",
  "secrets",
  "logDir",
  "handlerOn",
  "smtp",
  "mailOn",
  "errorMail",
  "infoMail",
  "timeoutSec",
  "delaySec",
  "restartWaitSec",
  "histRetentionDays",
  "maxActiveRuns",
  "queue",
  "maxActiveSteps",
  "maxCleanUpTimeSec",
  "maxOutputSize",
  "precondition",
  "preconditions",
  "container",
  "registryAuths",
  "ssh",
  "otel",
  "runConfig",
  "workerSelector",
]);
const STEP_KEYS = new Set([
  "name",
  "id",
  "description",
  "command",
  "script",
  "shell",
  "dir",
  "workingDir",
  "depends",
  "env",
  "output",
  "timeoutSec",
  "retryPolicy",
  "continueOn",
]);
const STEP_LATER = new Set([
  "executor",
  "shellPackages",
  "stdout",
  "stderr",
  "repeatPolicy",
  "mailOnError",
  "precondition",
  "preconditions",
  "signalOnStop",
  "call",
  "run",
  "params",
  "parallel",
  "workerSelector",
]);

export function parseDag(text: string, opts?: { name?: string }): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues = new Issues(lines);
  for (const e of doc.errors) {
    issues.add({
      line: lines.linePos(e.pos[0]).line,
      message: `YAML syntax: ${e.message.split("\n")[0] ?? e.message}`,
    });
  }
  if (doc.errors.length) return { ok: false, errors: issues.list, warnings: [] };
  const root = doc.contents;
  if (!isMap(root)) {
    issues.at(root, undefined, "a DAG file must be a mapping of keys (name, steps, ...)");
    return { ok: false, errors: issues.list, warnings: [] };
  }
  const dag = readDag(root, issues, opts?.name);
  if (dag) checkGraph(dag, issues);
  if (issues.list.length || !dag) return { ok: false, errors: issues.list, warnings: issues.warnings };
  return { ok: true, dag: dag.def, warnings: issues.warnings };
}

interface Located {
  def: DagDef;
  /** YAML node of each step, by index, for locating graph errors. */
  stepNodes: Node[];
}

export type { Located as LocatedDag };

function checkKeys(map: YAMLMap, known: Set<string>, later: Set<string>, where: string, issues: Issues): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const field = where ? `${where}.${key}` : key;
    if (known.has(key)) continue;
    if (later.has(key)) issues.at(pair.key as Node, field, `"${key}" is not supported yet`);
    else issues.at(pair.key as Node, field, `unknown key "${key}"`);
  }
}

function readDag(root: YAMLMap, issues: Issues, fallbackName?: string): Located | undefined {
  checkKeys(root, DAG_KEYS, DAG_LATER, "", issues);
  const get = (k: string) => root.get(k, true) as Node | undefined;

  const nameNode = get("name");
  let name = fallbackName;
  if (nameNode !== undefined) name = issues.string(nameNode, "name");
  if (name === undefined || name === "") {
    issues.at(nameNode ?? root, "name", "name is required (in the spec, or as the DAG's name)");
  } else if (!DAG_NAME_PATTERN.test(name) || name.length > DAG_NAME_MAX) {
    issues.at(
      nameNode ?? root,
      "name",
      `invalid DAG name "${name}": use letters, digits, _ and - (at most ${DAG_NAME_MAX})`,
    );
  }

  const typeNode = get("type");
  let type: DagDef["type"] = "chain";
  if (typeNode !== undefined) {
    const t = issues.string(typeNode, "type");
    if (t === "graph" || t === "chain") type = t;
    else if (t === "agent") issues.at(typeNode, "type", `type "agent" is not supported yet`);
    else if (t !== undefined) issues.at(typeNode, "type", `type must be "graph" or "chain", not "${t}"`);
  }

  const description = optional(get("description"), (n) => issues.string(n, "description"));
  const tags = optional(get("tags"), (n) => readStringList(n, "tags", issues, true)) ?? [];
  const env = optional(get("env"), (n) => readEnv(n, "env", issues)) ?? [];
  const params = optional(get("params"), (n) => readParams(n, "params", issues)) ?? [];
  const shell = optional(get("shell"), (n) => readShell(n, "shell", issues));

  const stepsNode = get("steps");
  const stepNodes: Node[] = [];
  const steps = stepsNode === undefined ? undefined : readSteps(stepsNode, type, issues, stepNodes);
  if (stepsNode === undefined) issues.at(root, "steps", "steps is required");
  else if (steps && steps.length === 0) issues.at(stepsNode, "steps", "a DAG needs at least one step");

  if (!steps || name === undefined) return undefined;
  const def: DagDef = { name, tags, type, env, params, steps };
  if (description !== undefined) def.description = description;
  if (shell !== undefined) def.shell = shell;
  return { def, stepNodes };
}

function optional<T>(node: Node | undefined, read: (n: Node) => T | undefined): T | undefined {
  return node === undefined || (isScalar(node) && node.value === null) ? undefined : read(node);
}

/**
 * The schema's step forms: a list of steps, strings (a command) or nested lists (a parallel
 * group), or a map of name -> step. In a chain, each item follows the one before it; a
 * parallel group's members all follow the item before the group, and the next item follows
 * them all.
 */
function readSteps(node: Node, type: DagDef["type"], issues: Issues, nodes: Node[]): StepDef[] | undefined {
  const steps: StepDef[] = [];
  /** Names of the previous sequential item (one step, or a parallel group's members). */
  let previous: string[] = [];
  const add = (item: Node, field: string, after: string[], nameFromKey?: string): string | undefined => {
    const step = readStep(item, field, steps.length, issues, nameFromKey);
    if (!step) return undefined;
    if (type === "chain" && !step.explicitDepends) step.def.depends = [...after];
    steps.push(step.def);
    nodes.push(item);
    return step.def.name;
  };

  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const name = add(pair.value as Node, `steps.${key}`, previous, key);
      previous = name ? [name] : [];
    }
    return steps;
  }
  if (!isSeq(node)) {
    issues.at(node, "steps", "steps must be a list of steps or a map of name -> step");
    return undefined;
  }
  node.items.forEach((item, i) => {
    const field = `steps[${i}]`;
    if (isSeq(item)) {
      const group: string[] = [];
      item.items.forEach((member, j) => {
        const name = add(member as Node, `${field}[${j}]`, previous);
        if (name) group.push(name);
      });
      previous = group;
    } else {
      const name = add(item as Node, field, previous);
      previous = name ? [name] : [];
    }
  });
  return steps;
}

function readStep(
  node: Node,
  field: string,
  index: number,
  issues: Issues,
  nameFromKey?: string,
): { def: StepDef; explicitDepends: boolean } | undefined {
  const generated = nameFromKey ?? `step_${index + 1}`;
  const base: StepDef = {
    name: generated,
    depends: [],
    env: [],
    retryPolicy: { limit: 0, intervalSec: 0 },
    continueOn: { failure: false, skipped: false, exitCode: [] },
  };
  if (isScalar(node) && typeof node.value === "string") {
    return { def: { ...base, command: node.value }, explicitDepends: false };
  }
  if (!isMap(node)) {
    issues.at(node, field, "a step must be a mapping or a command string");
    return undefined;
  }
  checkKeys(node, STEP_KEYS, STEP_LATER, field, issues);
  const get = (k: string) => node.get(k, true) as Node | undefined;
  const def = { ...base };
  const f = (k: string) => `${field}.${k}`;

  const name = optional(get("name"), (n) => issues.string(n, f("name")));
  if (name !== undefined) def.name = name;
  if (name === "") issues.at(get("name") ?? node, f("name"), "step name must not be empty");
  const id = optional(get("id"), (n) => issues.string(n, f("id")));
  if (id !== undefined) {
    if (!VAR_NAME.test(id)) issues.at(get("id") ?? node, f("id"), `step id "${id}" must be a variable-like name`);
    def.id = id;
  }
  const description = optional(get("description"), (n) => issues.string(n, f("description")));
  if (description !== undefined) def.description = description;
  const command = optional(get("command"), (n) => readCommand(n, f("command"), issues));
  if (command !== undefined) def.command = command;
  const script = optional(get("script"), (n) => issues.string(n, f("script")));
  if (script !== undefined) def.script = script;
  if (def.command === undefined && def.script === undefined) {
    issues.at(node, field, `step "${def.name}" needs a command or a script`);
  }
  const shell = optional(get("shell"), (n) => readShell(n, f("shell"), issues));
  if (shell !== undefined) def.shell = shell;
  const dirKey = get("workingDir") !== undefined ? "workingDir" : "dir";
  const dir = optional(get(dirKey), (n) => issues.string(n, f(dirKey)));
  if (dir !== undefined) def.dir = dir;
  const dependsNode = get("depends");
  const depends = optional(dependsNode, (n) => readStringList(n, f("depends"), issues, false));
  if (depends !== undefined) def.depends = depends;
  const env = optional(get("env"), (n) => readEnv(n, f("env"), issues));
  if (env !== undefined) def.env = env;
  const output = optional(get("output"), (n) => issues.string(n, f("output")));
  if (output !== undefined) {
    const bare = output.replace(/^\$/, "");
    if (!VAR_NAME.test(bare))
      issues.at(get("output") ?? node, f("output"), `output "${output}" is not a valid variable name`);
    def.output = bare;
  }
  const timeoutSec = optional(get("timeoutSec"), (n) => issues.int(n, f("timeoutSec"), 0));
  if (timeoutSec) def.timeoutSec = timeoutSec;
  const retry = get("retryPolicy");
  if (retry !== undefined) def.retryPolicy = readRetry(retry, f("retryPolicy"), issues);
  const cont = get("continueOn");
  if (cont !== undefined) def.continueOn = readContinueOn(cont, f("continueOn"), issues);
  return { def, explicitDepends: dependsNode !== undefined };
}

/** A command string, or an argv list joined into one command line (elements quoted as needed). */
function readCommand(node: Node, field: string, issues: Issues): string | undefined {
  if (isSeq(node)) {
    const parts = node.items.map((item, i) => {
      if (isScalar(item) && ["string", "number", "boolean"].includes(typeof item.value)) return String(item.value);
      issues.at(item as Node, `${field}[${i}]`, "command items must be strings, numbers or booleans");
      return "";
    });
    return parts.map(shellQuote).join(" ");
  }
  return issues.string(node, field);
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function readRetry(node: Node, field: string, issues: Issues): StepDef["retryPolicy"] {
  const policy = { limit: 0, intervalSec: 0 };
  if (!isMap(node)) {
    issues.at(node, field, "retryPolicy must be a mapping (limit, intervalSec)");
    return policy;
  }
  checkKeys(node, new Set(["limit", "intervalSec"]), new Set(["backoff", "maxIntervalSec", "exitCode"]), field, issues);
  const limit = node.get("limit", true) as Node | undefined;
  const interval = node.get("intervalSec", true) as Node | undefined;
  if (limit !== undefined) policy.limit = issues.int(limit, `${field}.limit`, 0) ?? 0;
  if (interval !== undefined) policy.intervalSec = issues.int(interval, `${field}.intervalSec`, 0) ?? 0;
  return policy;
}

function readContinueOn(node: Node, field: string, issues: Issues): StepDef["continueOn"] {
  const c = { failure: false, skipped: false, exitCode: [] as number[] };
  if (isScalar(node) && typeof node.value === "string") {
    if (node.value === "failed" || node.value === "failure") c.failure = true;
    else if (node.value === "skipped") c.skipped = true;
    else issues.at(node, field, `continueOn must be "failed", "skipped" or a mapping, not "${node.value}"`);
    return c;
  }
  if (!isMap(node)) {
    issues.at(node, field, "continueOn must be a mapping (failure, skipped, exitCode)");
    return c;
  }
  checkKeys(node, new Set(["failure", "skipped", "exitCode"]), new Set(["output", "markSuccess"]), field, issues);
  const failure = node.get("failure", true) as Node | undefined;
  const skipped = node.get("skipped", true) as Node | undefined;
  const exitCode = node.get("exitCode", true) as Node | undefined;
  if (failure !== undefined) c.failure = issues.bool(failure, `${field}.failure`) ?? false;
  if (skipped !== undefined) c.skipped = issues.bool(skipped, `${field}.skipped`) ?? false;
  if (exitCode !== undefined) {
    const items = isSeq(exitCode) ? (exitCode.items as Node[]) : [exitCode];
    c.exitCode = items.flatMap((n, i) => {
      const v = issues.int(n, isSeq(exitCode) ? `${field}.exitCode[${i}]` : `${field}.exitCode`, 0);
      return v === undefined ? [] : [v];
    });
  }
  return c;
}

export type { DagIssue };
