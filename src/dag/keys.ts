// Which keys of Dagu's DAG schema (shared/contracts/dagu-dag.schema.json) dagflare runs. A key
// of the schema that is not built yet is refused as "not supported yet", never ignored: a DAG
// that silently lost its schedule or its preconditions would run, and do the wrong thing.
// PURE.
import { isScalar, type YAMLMap } from "yaml";
import type { Issues } from "./issues";
import { RUN_POLICY_KEYS } from "./run-policy";
import { camelSpelling } from "./spellings";
import { keyOf } from "./yaml-nodes";

export interface KeySet {
  supported: ReadonlySet<string>;
  /** In the schema, not built yet. */
  later: ReadonlySet<string>;
  /** In the schema, read but without effect here: a warning says why. */
  noEffect?: ReadonlyMap<string, string>;
}

export const DAG_KEYS: KeySet = {
  supported: new Set([
    "name",
    "description",
    "tags",
    "env",
    "params",
    "type",
    "shell",
    "steps",
    "workerSelector",
    ...RUN_POLICY_KEYS,
    "precondition",
    "preconditions",
    "timeoutSec",
    "delaySec",
    "maxActiveSteps",
    "handlerOn",
    "maxOutputSize",
    "runConfig",
    "group",
    "maxCleanUpTimeSec",
    "workingDir",
    "dotenv",
    "secrets",
    // Mail when a run finishes (src/dag/mail.ts).
    "mailOn",
    "smtp",
    "errorMail",
    "infoMail",
  ]),
  later: new Set(["container", "otel", "registryAuths", "ssh"]),
  noEffect: new Map([
    ["logDir", "logs are kept by the server (GET .../log), not in a directory"],
    ["restartWaitSec", "dagflare has no process supervisor that restarts a DAG"],
  ]),
};

export const STEP_KEYS: KeySet = {
  supported: new Set([
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
    "workerSelector",
    "executor",
    "precondition",
    "preconditions",
    "repeatPolicy",
    "signalOnStop",
    // dagflare's addition (daggle's human approval), not in Dagu's schema.
    "approval",
    "parallel",
    "stdout",
    "stderr",
    // a sub-DAG call (src/dag/call.ts); `run` is current Dagu's shell form (run-form.ts), or,
    // written with `params`, the older name of `call`.
    "call",
    "run",
    "params",
  ]),
  later: new Set(["mailOnError", "shellPackages"]),
};

export const RETRY_KEYS: KeySet = {
  supported: new Set(["limit", "intervalSec", "backoff", "maxIntervalSec", "exitCode"]),
  later: new Set(),
};

export const CONTINUE_ON_KEYS: KeySet = {
  supported: new Set(["failure", "skipped", "exitCode", "output", "markSuccess"]),
  later: new Set(),
};

const isKnown = (keys: KeySet, key: string) =>
  keys.supported.has(key) || keys.later.has(key) || !!keys.noEffect?.has(key);

/**
 * Current Dagu writes keys in snake_case (`handler_on`, `max_active_runs`, `retry_policy`...):
 * each such key of `map` (spellings.ts) is renamed in place to the camelCase key it stands for,
 * so the readers see one spelling; a map holding both spellings of one key is an error naming
 * both. Keys that are the user's (env names, worker labels) are never in a KeySet, so stay.
 */
function foldSnakeCase(map: YAMLMap, keys: KeySet, where: string, issues: Issues): void {
  const present = new Set(map.items.map(keyOf));
  for (const pair of map.items) {
    const key = keyOf(pair);
    const camel = camelSpelling(key);
    if (camel === undefined || !isKnown(keys, camel) || !isScalar(pair.key)) continue;
    if (present.has(camel)) {
      const field = where ? `${where}.${camel}` : camel;
      issues.at(pair.key, field, `"${key}" and "${camel}" are the same key written two ways: keep one`);
      continue;
    }
    pair.key.value = camel;
  }
}

/**
 * Reports each key of `map` that is unknown or not built yet; `where` prefixes the field path.
 * Keys in Dagu's snake_case spelling are first folded into their camelCase form.
 */
export function checkKeys(map: YAMLMap, keys: KeySet, where: string, issues: Issues): void {
  foldSnakeCase(map, keys, where, issues);
  for (const pair of map.items) {
    const key = keyOf(pair);
    // A snake_case key still here was written beside its camelCase twin: reported above.
    const camel = camelSpelling(key);
    if (keys.supported.has(key) || (camel !== undefined && isKnown(keys, camel))) continue;
    const field = where ? `${where}.${key}` : key;
    const node = pair.key as Parameters<Issues["at"]>[0];
    const why = keys.noEffect?.get(key);
    if (why !== undefined) {
      issues.warn(node, field, `"${key}" has no effect in dagflare: ${why}`);
      continue;
    }
    if (keys.later.has(key)) issues.at(node, field, `"${key}" is not supported yet`);
    else issues.at(node, field, `unknown key "${key}"`);
  }
}
