// YAML text -> DagDef, with every problem reported at once, each with its line and field.
// PURE. The shapes follow Dagu's schema (shared/contracts/dagu-dag.schema.json); keys.ts says
// which of its keys are built. Steps are read in steps.ts (each one in step.ts), the step graph
// checked in graph.ts.
import { Composer, type Document, isMap, isScalar, LineCounter, type Node, Parser, type YAMLMap } from "yaml";
import { BOUND, type Bound, MAX_SPEC_BYTES, MAX_STEPS, MAX_STORED_DAG_BYTES, showBytes, utf8Bytes } from "../limits";
import { DAG_NAME_MAX, DAG_NAME_PATTERN } from "./call";
import { readConditions } from "./control";
import { checkGraph } from "./graph";
import { readDotenv, readPath, readSecrets } from "./host";
import { Issues } from "./issues";
import { checkKeys, DAG_KEYS, type KeySet } from "./keys";
import { readMail } from "./mail";
import { checkStepRefOrder, foldNamespacedRefs, type StepOutputRef } from "./namespaced-refs";
import { listedItems, parseInstanceName } from "./parallel";
import { readSelector } from "./read-selector";
import { unresolvedRefs } from "./refs";
import { readRunPolicy } from "./run-policy";
import { readStep } from "./step";
import { readSteps } from "./steps";
import { type DagDef, type DagIssue, HANDLER_NAMES, type HandlerKind, type ParseResult } from "./types";
import { readEnv, readParams, readShell, readStringList } from "./values";
import { checkExpanded, DEPTH_MESSAGE, tooDeep } from "./yaml-limits";
import { child, isAbsent, keyOf, resolveRefs } from "./yaml-nodes";

export { DAG_NAME_MAX, DAG_NAME_PATTERN } from "./call";

const RUN_CONFIG_KEYS: KeySet = { supported: new Set(["disableParamEdit", "disableRunIdEdit"]), later: new Set() };

export function parseDag(yamlText: string, opts?: { name?: string }): ParseResult {
  const bytes = utf8Bytes(yamlText);
  if (bytes > MAX_SPEC_BYTES) {
    const message = `the spec is ${bytes} bytes, over the limit of ${showBytes(MAX_SPEC_BYTES)} for a spec`;
    return { ok: false, errors: [{ message }], warnings: [] };
  }
  const lines = new LineCounter();
  // The tokens are checked for depth before the (recursive) composer builds a tree of them.
  const tokens = Array.from(new Parser(lines.addNewLine).parse(yamlText));
  const deep = tooDeep(tokens);
  if (deep !== undefined) {
    return { ok: false, errors: [{ line: lines.linePos(deep).line, message: DEPTH_MESSAGE }], warnings: [] };
  }
  // `merge` reads `<<: *base` as a merge key, as Go's YAML decoder (and so Dagu) does.
  const docs = Array.from(new Composer({ merge: true }).compose(tokens));
  const issues = new Issues(lines);
  // After a syntax error the tree is a guess; checking it would add noise, not information.
  const syntax = docs.flatMap((doc) => doc.errors);
  if (syntax.length > 0) {
    for (const e of syntax) {
      const message = `YAML syntax: ${e.message.split("\n")[0] ?? e.message}`;
      issues.errors.push({ line: lines.linePos(e.pos[0]).line, message });
    }
    return { ok: false, errors: issues.errors, warnings: [] };
  }
  for (const w of docs.flatMap((doc) => doc.warnings)) {
    issues.warnings.push({
      line: lines.linePos(w.pos[0]).line,
      message: `YAML: ${w.message.split("\n")[0] ?? w.message}`,
    });
  }
  // An empty document (a trailing `---`) is no DAG.
  const [main, ...rest] = docs.filter(
    (doc, i) => i === 0 || !(doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)),
  );
  const dag = main && readDocument(main, issues, opts?.name);
  if (!main) issues.errors.push({ message: "a DAG file must be a mapping of keys (name, steps, ...)" });
  // Each document after `---` is a local DAG: it needs its own name, its fields are prefixed.
  const locals = rest.flatMap((doc, i) => {
    const local = new Issues(lines);
    const def = readDocument(doc, local, undefined);
    const where = `localDags[${def?.name ?? i}]`;
    const prefix = (x: DagIssue): DagIssue => ({ ...x, field: x.field ? `${where}.${x.field}` : where });
    issues.errors.push(...local.errors.map(prefix));
    issues.warnings.push(...local.warnings.map(prefix));
    return def ? [def] : [];
  });
  if (issues.errors.length > 0 || !dag) return { ok: false, errors: issues.errors, warnings: issues.warnings };
  const names = new Set([dag.name]);
  for (const [i, local] of locals.entries()) {
    if (names.has(local.name)) {
      const where = `localDags[${local.name}]`;
      issues.at(rest[i]?.contents, `${where}.name`, `two DAGs of this file are named "${local.name}"`);
    }
    names.add(local.name);
  }
  if (issues.errors.length > 0) return { ok: false, errors: issues.errors, warnings: issues.warnings };
  if (locals.length) dag.localDags = locals;
  // What is stored is the text and its parsed form in one row (src/limits.ts).
  const stored = bytes + utf8Bytes(JSON.stringify(dag));
  if (stored > MAX_STORED_DAG_BYTES) {
    const message = `the DAG takes ${stored} bytes stored (spec and parsed definition), over the limit of ${MAX_STORED_DAG_BYTES} for a stored DAG`;
    return { ok: false, errors: [{ message }], warnings: issues.warnings };
  }
  const refs = [dag, ...locals].flatMap((d, i) =>
    unresolvedRefs(d).map((x) => (i === 0 ? x : { ...x, field: `localDags[${d.name}].${x.field ?? ""}` })),
  );
  return { ok: true, dag, warnings: [...issues.warnings, ...refs] };
}

function readDocument(doc: Document.Parsed, issues: Issues, fallbackName?: string): DagDef | undefined {
  for (const p of resolveRefs(doc)) issues.at(p.node, undefined, p.message);
  // Before any reader copies a shared node once per use.
  const tooBig = checkExpanded(doc.contents);
  if (tooBig) {
    issues.at(tooBig.node, undefined, tooBig.message);
    return undefined;
  }
  const root = doc.contents;
  if (!isMap(root)) {
    issues.at(root, undefined, "a DAG file must be a mapping of keys (name, steps, ...)");
    return undefined;
  }
  // Before the readers copy any string: they and all after them see only `${NAME}` references.
  const stepRefs = foldNamespacedRefs(root, issues);
  return readDag(root, issues, stepRefs, fallbackName);
}

function readDag(root: YAMLMap, issues: Issues, stepRefs: StepOutputRef[], fallbackName?: string): DagDef | undefined {
  checkKeys(root, DAG_KEYS, "", issues);
  const get = (key: string): Node | undefined => {
    const n = child(root, key);
    return isAbsent(n) ? undefined : n;
  };

  const name = readName(root, get("name"), issues, fallbackName);

  const typeNode = get("type");
  let type: DagDef["type"] = "chain";
  const t = typeNode && issues.string(typeNode, "type");
  if (t === "graph" || t === "chain") type = t;
  else if (t === "agent") issues.at(typeNode, "type", `type "agent" is not supported yet`);
  else if (t !== undefined) issues.at(typeNode, "type", `type must be "graph" or "chain", not "${t}"`);

  const descriptionNode = get("description");
  const description = descriptionNode && issues.string(descriptionNode, "description");
  const groupNode = get("group");
  const group = groupNode && issues.string(groupNode, "group");
  const tagsNode = get("tags");
  const tags = tagsNode ? readStringList(tagsNode, "tags", issues, true) : [];
  const envNode = get("env");
  const env = envNode ? readEnv(envNode, "env", issues) : [];
  const paramsNode = get("params");
  const params = paramsNode ? readParams(paramsNode, "params", issues) : [];
  const shellNode = get("shell");
  const shell = shellNode && readShell(shellNode, "shell", issues);
  const workingDirNode = get("workingDir");
  const workingDir = workingDirNode && readPath(workingDirNode, "workingDir", issues);
  const dotenvNode = get("dotenv");
  const dotenv = dotenvNode && readDotenv(dotenvNode, issues);
  const secretsNode = get("secrets");
  const secrets = secretsNode && readSecrets(secretsNode, issues);

  const selectorNode = get("workerSelector");
  const workerSelector = selectorNode && readSelector(selectorNode, "workerSelector", issues);

  const stepsNode = get("steps");
  const entries = stepsNode && readSteps(stepsNode, type, issues);
  if (!stepsNode) issues.at(root, "steps", "steps is required");
  else if (entries?.length === 0) issues.at(stepsNode, "steps", "a DAG needs at least one step");
  if (entries) checkGraph(entries, issues);
  if (entries) checkStepRefOrder(stepRefs, entries, issues);
  const stepCount = entries?.reduce((n, e) => n + (listedItems(e.def)?.length ?? 1), 0) ?? 0;
  if (stepCount > MAX_STEPS) {
    issues.at(stepsNode, "steps", `${stepCount} steps (parallel items counted), over the limit of ${MAX_STEPS} steps`);
  }
  // The runner sets a secret over everything else: an env entry of the same name would be dead.
  const secretNames = new Set((secrets ?? []).map((s) => s.name));
  const sameName = (list: DagDef["env"], node: Node | undefined, where: string) => {
    for (const [k] of list) {
      if (secretNames.has(k)) issues.at(node, `${where}.${k}`, `${k} is a secret; an env entry cannot also set it`);
    }
  };
  sameName(env, envNode, "env");
  for (const e of entries ?? [])
    sameName(e.def.env, (isMap(e.node) ? child(e.node, "env") : undefined) ?? e.node, `${e.field}.env`);
  const policy = readRunPolicy(root, issues);
  const mail = readMail(root, issues);

  const preconditions = ["precondition", "preconditions"].flatMap((k) => {
    const n = get(k);
    return n ? readConditions(n, k, issues) : [];
  });
  const int = (k: string, min: number, max: Bound) => {
    const n = get(k);
    return n && issues.int(n, k, min, max);
  };
  const timeoutSec = int("timeoutSec", 0, BOUND.serverTimer);
  const delaySec = int("delaySec", 0, BOUND.serverTimer);
  const maxActiveSteps = int("maxActiveSteps", 0, BOUND.count);
  // The runner waits this long between the stop signal and SIGKILL.
  const maxCleanUpTimeSec = int("maxCleanUpTimeSec", 0, BOUND.runnerTimer);
  const maxOutputSize = int("maxOutputSize", 1, BOUND.outputBytes);

  if (!entries || name === undefined || stepCount > MAX_STEPS) return undefined;
  const def: DagDef = { name, tags, type, env, params, steps: entries.map((e) => e.def), ...policy };
  for (const e of entries.filter((e) => e.def.fanout)) {
    const clash = def.steps.find((s) => parseInstanceName(s.name)?.parent === e.def.name);
    if (clash) issues.at(e.node, e.field, `step "${clash.name}" has the name of an instance of this parallel step`);
  }
  if (preconditions.length) def.preconditions = preconditions;
  // 0 means no limit, as in Dagu.
  if (timeoutSec) def.timeoutSec = timeoutSec;
  if (delaySec) def.delaySec = delaySec;
  if (maxActiveSteps) def.maxActiveSteps = maxActiveSteps;
  if (maxCleanUpTimeSec !== undefined) def.maxCleanUpTimeSec = maxCleanUpTimeSec;
  if (maxOutputSize !== undefined) def.maxOutputSize = maxOutputSize;
  const runConfigNode = get("runConfig");
  if (runConfigNode) def.runConfig = readRunConfig(runConfigNode, issues);
  const handlerNode = get("handlerOn");
  const handlerOn = handlerNode && readHandlers(handlerNode, issues, def.steps);
  if (handlerOn && Object.keys(handlerOn).length) def.handlerOn = handlerOn;
  if (description) def.description = description;
  if (group) def.group = group;
  if (shell !== undefined) def.shell = shell;
  if (workingDir !== undefined) def.workingDir = workingDir;
  if (dotenv !== undefined) def.dotenv = dotenv;
  if (secrets?.length) def.secrets = secrets;
  if (workerSelector && Object.keys(workerSelector).length > 0) def.workerSelector = workerSelector;
  if (mail) def.mail = mail;
  return def;
}

function readRunConfig(node: Node, issues: Issues): DagDef["runConfig"] {
  const config = { disableParamEdit: false, disableRunIdEdit: false };
  if (!isMap(node)) {
    issues.at(node, "runConfig", "runConfig must be a mapping (disableParamEdit, disableRunIdEdit)");
    return config;
  }
  checkKeys(node, RUN_CONFIG_KEYS, "runConfig", issues);
  for (const key of ["disableParamEdit", "disableRunIdEdit"] as const) {
    const n = child(node, key);
    if (!isAbsent(n)) config[key] = issues.bool(n, `runConfig.${key}`) ?? false;
  }
  return config;
}

/** `handlerOn`: init, success, failure, cancel (Dagu's newer name: abort), exit; each a step. */
function readHandlers(node: Node, issues: Issues, steps: DagDef["steps"]): DagDef["handlerOn"] {
  if (!isMap(node)) {
    issues.at(node, "handlerOn", "handlerOn must be a mapping (init, success, failure, cancel, exit)");
    return undefined;
  }
  const out: NonNullable<DagDef["handlerOn"]> = {};
  const names = new Set(steps.map((s) => s.name));
  for (const pair of node.items) {
    const key = keyOf(pair);
    const field = `handlerOn.${key}`;
    const kind: HandlerKind | undefined =
      key === "abort" ? "cancel" : key in HANDLER_NAMES ? (key as HandlerKind) : undefined;
    if (kind === undefined) {
      issues.at(pair.key as Node, field, `unknown handler "${key}" (init, success, failure, cancel, abort, exit)`);
      continue;
    }
    if (isAbsent(pair.value as Node)) continue;
    if (out[kind]) {
      issues.at(pair.key as Node, field, "cancel and abort name the same handler; give one");
      continue;
    }
    const name = HANDLER_NAMES[kind];
    const entry = readStep(pair.value as Node, field, issues, name);
    if (!entry) continue;
    if (entry.explicitDepends) issues.at(pair.value as Node, `${field}.depends`, "a handler cannot depend on steps");
    if (entry.def.fanout) issues.at(pair.value as Node, `${field}.parallel`, "a handler cannot be a parallel step");
    if (names.has(name)) issues.at(pair.key as Node, field, `a step is named "${name}", the name of this handler`);
    // The handler's node is always named after it, as in Dagu.
    entry.def.name = name;
    entry.def.depends = [];
    out[kind] = entry.def;
  }
  return out;
}

/** The spec's own `name` wins over the name the DAG is stored under, as in Dagu. */
function readName(root: YAMLMap, node: Node | undefined, issues: Issues, fallback?: string): string | undefined {
  const name = node ? issues.string(node, "name") : fallback;
  if (node && name === undefined) return undefined;
  if (name === undefined || name === "") {
    issues.at(node ?? root, "name", "name is required");
    return undefined;
  }
  if (!DAG_NAME_PATTERN.test(name) || name.length > DAG_NAME_MAX) {
    issues.at(
      node ?? root,
      "name",
      `invalid DAG name "${name}": use letters, digits, _ and - (at most ${DAG_NAME_MAX} characters)`,
    );
    return undefined;
  }
  return name;
}
