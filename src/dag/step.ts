// One step of a DAG file -> a StepDef, with where it stands in the YAML for the graph checks.
// PURE. A step is a mapping or, in the shorthand form, a command string; its retryPolicy and
// continueOn are read in step-policies.ts, its control keys in control.ts.
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { BOUND, MAX_COMMAND_BYTES, showBytes, utf8Bytes } from "../limits";
import { readCall } from "./call";
import { checkExecutor, readApproval, readConditions, readRepeat, readSignal } from "./control";
import { readPath } from "./host";
import type { Issues } from "./issues";
import { checkKeys, STEP_KEYS } from "./keys";
import { readParallel } from "./parallel";
import { readSelector } from "./read-selector";
import { readRun } from "./run-form";
import { readContinueOn, readRetry } from "./step-policies";
import type { StepDef } from "./types";
import { readEnv, readShell, readStringList, VAR_NAME } from "./values";
import { shellQuote } from "./words";
import { child, isAbsent, present, scalarText } from "./yaml-nodes";

/** Dagu's rule for step ids, which `${id.stdout}`-style references will rely on. */
const STEP_ID = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
const RESERVED_IDS = new Set(["env", "params", "args", "stdout", "stderr", "output", "outputs"]);

/** A step with what the graph checks need to point at the YAML. */
export interface StepEntry {
  def: StepDef;
  /** The step's node: its mapping, or the string of the shorthand form. */
  node: Node;
  /** `steps[2]`, `steps[1][0]` (in a parallel group) or `steps.build` (map form). */
  field: string;
  /** The node of each explicit `depends` entry, in order; empty when depends is implicit. */
  dependsNodes: Node[];
  /** Positions of the previous sequential item: the steps a chain step follows. */
  follows: number[];
  explicitDepends: boolean;
  explicitName: boolean;
}

export function readStep(node: Node, field: string, issues: Issues, nameFromKey?: string): StepEntry | undefined {
  const def: StepDef = {
    name: nameFromKey ?? "",
    depends: [],
    env: [],
    retryPolicy: { limit: 0, intervalSec: 0 },
    continueOn: { failure: false, skipped: false, exitCode: [] },
  };
  const entry: StepEntry = {
    def,
    node,
    field,
    dependsNodes: [],
    follows: [],
    explicitDepends: false,
    explicitName: nameFromKey !== undefined,
  };
  if (isScalar(node) && typeof node.value === "string") {
    if (node.value.trim() === "") issues.at(node, field, "a step needs a command or a script");
    checkCommandSize(node, field, node.value, issues);
    def.command = node.value;
    return entry;
  }
  if (!isMap(node)) {
    issues.at(node, field, "a step must be a mapping or a command string");
    return undefined;
  }
  checkKeys(node, STEP_KEYS, field, issues);
  const get = (key: string) => present(node, key);
  const f = (key: string) => `${field}.${key}`;
  const text = (key: string) => {
    const n = get(key);
    return n === undefined ? undefined : issues.string(n, f(key));
  };

  const name = text("name");
  if (name !== undefined) {
    if (name.trim() === "") issues.at(get("name"), f("name"), "step name must not be empty");
    else if (nameFromKey !== undefined && name !== nameFromKey) {
      issues.warn(get("name"), f("name"), `the step is named "${name}", not by its key "${nameFromKey}"`);
    }
    def.name = name;
    entry.explicitName = true;
  }
  // dagflare's own steps are named in parentheses (the DAG precondition check): a user step
  // with such a name would be taken for one of them.
  if (def.name.startsWith("(")) {
    issues.at(get("name") ?? node, get("name") ? f("name") : field, `step name "${def.name}" must not start with "("`);
  }
  const id = text("id");
  if (id !== undefined) {
    if (!STEP_ID.test(id)) issues.at(get("id"), f("id"), `step id "${id}" must match ${STEP_ID.source}`);
    else if (RESERVED_IDS.has(id.toLowerCase())) issues.at(get("id"), f("id"), `step id "${id}" is a reserved word`);
    def.id = id;
  }
  const description = text("description");
  if (description !== undefined) def.description = description;
  const commandNode = get("command");
  const command = commandNode && readCommand(commandNode, f("command"), issues);
  if (command !== undefined) def.command = command;
  if (commandNode && command !== undefined) checkCommandSize(commandNode, f("command"), command, issues);
  const script = text("script");
  if (script !== undefined) def.script = script;
  // `run` with `params` is Dagu's older name for `call`; otherwise current Dagu's shell form.
  const legacyCall = get("run") !== undefined && get("call") === undefined && get("params") !== undefined;
  const runNode = legacyCall ? undefined : get("run");
  const run = runNode && readRun(runNode, f("run"), issues);
  if (runNode && (commandNode || script !== undefined)) {
    issues.at(runNode, f("run"), `step "${def.name}" has run and ${commandNode ? "command" : "script"}: give one`);
  } else if (run && "command" in run) {
    checkCommandSize(runNode, f("run"), run.command, issues);
    def.command = run.command;
  } else if (run) def.script = run.script;
  const approvalNode = get("approval");
  const approval = approvalNode && readApproval(approvalNode, f("approval"), issues);
  if (approval) def.approval = approval;
  readCall(get, def, field, issues, legacyCall);
  if (!def.command?.trim() && !def.script?.trim() && !approval && !get("call") && !get("run")) {
    issues.at(
      node,
      field,
      def.name
        ? `step "${def.name}" needs a command, a script or a call`
        : "a step needs a command, a script or a call",
    );
  }
  const shellNode = get("shell");
  const shell = shellNode && readShell(shellNode, f("shell"), issues);
  if (shell !== undefined) def.shell = shell;
  // `dir` is Dagu's older name for workingDir.
  if (get("dir") !== undefined && get("workingDir") !== undefined) {
    issues.warn(get("dir"), f("dir"), "both dir and workingDir are set; workingDir is used");
  }
  const dirKey = get("workingDir") !== undefined ? "workingDir" : "dir";
  const dirNode = get(dirKey);
  const dir = dirNode && readPath(dirNode, f(dirKey), issues);
  if (dir !== undefined) def.dir = dir;
  for (const stream of ["stdout", "stderr"] as const) {
    const n = get(stream);
    const file = n && readPath(n, f(stream), issues);
    if (file !== undefined) def[stream] = file;
  }

  const dependsNode = child(node, "depends");
  if (!isAbsent(dependsNode)) {
    entry.explicitDepends = true;
    def.depends = readStringList(dependsNode, f("depends"), issues, false);
    entry.dependsNodes = isSeq(dependsNode) ? (dependsNode.items as Node[]) : [dependsNode];
  }
  const envNode = get("env");
  if (envNode !== undefined) def.env = readEnv(envNode, f("env"), issues);
  const output = text("output");
  if (output !== undefined) {
    // `output: $OUT` names the same variable as `output: OUT`.
    const bare = output.replace(/^\$/, "");
    if (!VAR_NAME.test(bare)) issues.at(get("output"), f("output"), `output "${output}" is not a valid variable name`);
    def.output = bare;
  }
  const timeoutNode = get("timeoutSec");
  const timeoutSec = timeoutNode && issues.int(timeoutNode, f("timeoutSec"), 0, BOUND.runnerTimer);
  // 0 means no timeout, as in Dagu.
  if (timeoutSec) def.timeoutSec = timeoutSec;
  const retryNode = get("retryPolicy");
  if (retryNode !== undefined) def.retryPolicy = readRetry(retryNode, f("retryPolicy"), issues);
  const continueNode = get("continueOn");
  if (continueNode !== undefined) def.continueOn = readContinueOn(continueNode, f("continueOn"), issues);
  const selectorNode = get("workerSelector");
  const workerSelector = selectorNode && readSelector(selectorNode, f("workerSelector"), issues);
  if (workerSelector && Object.keys(workerSelector).length > 0) def.workerSelector = workerSelector;
  const executorNode = get("executor");
  if (executorNode !== undefined) checkExecutor(executorNode, f("executor"), issues);
  // `precondition` is Dagu's other spelling; both lists apply.
  const preconditions = ["precondition", "preconditions"].flatMap((k) => {
    const n = get(k);
    return n ? readConditions(n, f(k), issues) : [];
  });
  if (preconditions.length) def.preconditions = preconditions;
  const parallelNode = get("parallel");
  const parallel = parallelNode && readParallel(parallelNode, f("parallel"), issues);
  if (parallel) {
    const items = "from" in parallel ? parallel.from : parallel.items;
    def.fanout = { items, maxConcurrent: parallel.maxConcurrent };
  }
  const repeatNode = get("repeatPolicy");
  const repeat = repeatNode && readRepeat(repeatNode, f("repeatPolicy"), issues);
  if (repeat) def.repeatPolicy = repeat;
  const signalNode = get("signalOnStop");
  const signal = signalNode && readSignal(signalNode, f("signalOnStop"), issues);
  if (signal) def.signalOnStop = signal;
  return entry;
}

/** A command is one argument of `shell -c`; a longer one belongs in `script`, which is a file. */
function checkCommandSize(node: Node, field: string, command: string, issues: Issues): void {
  const bytes = utf8Bytes(command);
  if (bytes > MAX_COMMAND_BYTES) {
    issues.at(
      node,
      field,
      `${field} is ${bytes} bytes, over the limit of ${showBytes(MAX_COMMAND_BYTES)} for a command (use script for longer ones)`,
    );
  }
}

/** A command string, or an argv list joined into one command line (elements quoted as needed). */
function readCommand(node: Node, field: string, issues: Issues): string | undefined {
  if (!isSeq(node)) return issues.string(node, field);
  const words = node.items.map((item, i) => {
    const word = isScalar(item) && item.value !== null ? scalarText(item) : undefined;
    if (word === undefined)
      issues.at(item as Node, `${field}[${i}]`, "command items must be strings, numbers or booleans");
    return word ?? "";
  });
  return words.map(shellQuote).join(" ");
}
