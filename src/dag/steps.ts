// The `steps` of a DAG file -> StepDef[], with the implicit edges of a chain made explicit.
// PURE. Forms (Dagu's schema): a list of steps, where an item may also be a command string or a
// nested list (a parallel group); or a map of name -> step.
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { BOUND, MAX_COMMAND_BYTES, showBytes, utf8Bytes } from "../limits";
import { readCall } from "./call";
import {
  checkExecutor,
  checkPattern,
  readApproval,
  readBackoff,
  readConditions,
  readExitCodes,
  readRepeat,
  readSignal,
} from "./control";
import { readPath } from "./host";
import type { Issues } from "./issues";
import { CONTINUE_ON_KEYS, checkKeys, RETRY_KEYS, STEP_KEYS } from "./keys";
import { readParallel } from "./parallel";
import { readSelector } from "./read-selector";
import { readRun } from "./run-form";
import type { ContinueOn, DagDef, RetryPolicy, StepDef } from "./types";
import { readEnv, readShell, readStringList, VAR_NAME } from "./values";
import { shellQuote } from "./words";
import { child, isAbsent, keyOf, scalarText } from "./yaml-nodes";

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

export function readSteps(node: Node, type: DagDef["type"], issues: Issues): StepEntry[] | undefined {
  const entries: StepEntry[] = [];
  /** Positions of the previous sequential item: one step, or all members of a parallel group. */
  let previous: number[] = [];
  const add = (item: unknown, field: string, nameFromKey?: string): number | undefined => {
    const entry = readStep(item as Node, field, issues, nameFromKey);
    if (!entry) return undefined;
    entry.follows = previous;
    entries.push(entry);
    return entries.length - 1;
  };

  if (isMap(node)) {
    for (const pair of node.items) {
      const at = add(pair.value ?? pair.key, `steps.${keyOf(pair)}`, keyOf(pair));
      previous = at === undefined ? previous : [at];
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (!isSeq(item)) {
        const at = add(item, `steps[${i}]`);
        previous = at === undefined ? previous : [at];
        return;
      }
      const group: number[] = [];
      item.items.forEach((member, j) => {
        if (isSeq(member)) issues.at(member, `steps[${i}][${j}]`, "parallel groups cannot be nested");
        else {
          const at = add(member, `steps[${i}][${j}]`);
          if (at !== undefined) group.push(at);
        }
      });
      if (group.length) previous = group;
    });
  } else {
    issues.at(node, "steps", "steps must be a list of steps or a map of name -> step");
    return undefined;
  }

  nameUnnamed(entries);
  if (type === "chain") for (const e of entries) followPrevious(e, entries);
  return entries;
}

/**
 * A chain step follows the step (or parallel group) before it. As in Dagu at the contract's
 * commit, that edge is added to the step's own `depends`, not replaced by them; only an empty
 * `depends: []` opts out. An edge already written (by the step's name or id) is not added twice.
 */
function followPrevious(e: StepEntry, entries: StepEntry[]): void {
  if (e.explicitDepends && e.def.depends.length === 0) return;
  for (const at of e.follows) {
    const prev = entries[at]?.def;
    if (!prev || e.def.depends.includes(prev.name) || (prev.id !== undefined && e.def.depends.includes(prev.id)))
      continue;
    e.def.depends.push(prev.name);
  }
}

/**
 * A step without a name is named by its id, as current Dagu does (its files give steps an id
 * and no name); else `step_<position>` (from 1, in file order), moving on to the next free
 * number on a clash.
 */
function nameUnnamed(entries: StepEntry[]): void {
  const taken = new Set(entries.filter((e) => e.explicitName).map((e) => e.def.name));
  entries.forEach((e, i) => {
    if (e.explicitName) return;
    if (e.def.id !== undefined && !taken.has(e.def.id)) {
      e.def.name = e.def.id;
      taken.add(e.def.id);
      return;
    }
    let n = i + 1;
    while (taken.has(`step_${n}`)) n++;
    e.def.name = `step_${n}`;
    taken.add(e.def.name);
  });
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

function readRetry(node: Node, field: string, issues: Issues): RetryPolicy {
  const policy: RetryPolicy = { limit: 0, intervalSec: 0 };
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be a mapping (limit, intervalSec)`);
    return policy;
  }
  checkKeys(node, RETRY_KEYS, field, issues);
  const limit = present(node, "limit");
  const interval = present(node, "intervalSec");
  if (limit !== undefined) policy.limit = issues.int(limit, `${field}.limit`, 0, BOUND.retryLimit) ?? 0;
  if (interval !== undefined)
    policy.intervalSec = issues.int(interval, `${field}.intervalSec`, 0, BOUND.serverTimer) ?? 0;
  const backoff = readBackoff(node, field, issues);
  if (backoff !== undefined) policy.backoff = backoff;
  const maxInterval = present(node, "maxIntervalSec");
  const max = maxInterval && issues.int(maxInterval, `${field}.maxIntervalSec`, 1, BOUND.serverTimer);
  if (max !== undefined) policy.maxIntervalSec = max;
  const exitCode = present(node, "exitCode");
  if (exitCode !== undefined) policy.exitCode = readExitCodes(exitCode, `${field}.exitCode`, issues);
  return policy;
}

function readContinueOn(node: Node, field: string, issues: Issues): ContinueOn {
  const c: ContinueOn = { failure: false, skipped: false, exitCode: [] };
  if (isScalar(node) && typeof node.value === "string") {
    if (node.value === "failed" || node.value === "failure") c.failure = true;
    else if (node.value === "skipped") c.skipped = true;
    else issues.at(node, field, `${field} must be "failed", "skipped" or a mapping, not "${node.value}"`);
    return c;
  }
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be "failed", "skipped" or a mapping (failure, skipped, exitCode)`);
    return c;
  }
  checkKeys(node, CONTINUE_ON_KEYS, field, issues);
  const failure = present(node, "failure");
  const skipped = present(node, "skipped");
  const exitCode = present(node, "exitCode");
  if (failure !== undefined) c.failure = issues.bool(failure, `${field}.failure`) ?? false;
  if (skipped !== undefined) c.skipped = issues.bool(skipped, `${field}.skipped`) ?? false;
  if (exitCode !== undefined) c.exitCode = readExitCodes(exitCode, `${field}.exitCode`, issues);
  const output = present(node, "output");
  if (output !== undefined) {
    c.output = readStringList(output, `${field}.output`, issues, false);
    const nodes = isSeq(output) ? (output.items as Node[]) : [output];
    c.output.forEach((p, i) => {
      checkPattern(nodes[i] ?? output, `${field}.output`, p, issues);
    });
  }
  const markSuccess = present(node, "markSuccess");
  if (markSuccess !== undefined && issues.bool(markSuccess, `${field}.markSuccess`)) c.markSuccess = true;
  return c;
}

function present(map: YAMLMap, key: string): Node | undefined {
  const n = child(map, key);
  return isAbsent(n) ? undefined : n;
}
