// The two spellings of every DAG key: Dagu's camelCase (the schema at the contract's version)
// and current Dagu's snake_case. One table, read by keys.ts before any reader looks at a map, so
// every reader sees one spelling. PURE.

/**
 * camelCase key -> its snake_case spelling, as current Dagu writes it. Every camelCase property
 * name of Dagu's DAG schema is here (a unit test walks the schema), with the keys of the
 * sections dagflare refuses (mail, container, ssh) so that their refusal names them either way.
 */
export const SPELLINGS: ReadonlyArray<readonly [camel: string, snake: string]> = [
  // The DAG
  ["workingDir", "working_dir"],
  ["skipIfSuccessful", "skip_if_successful"],
  ["logDir", "log_dir"],
  ["handlerOn", "handler_on"],
  ["mailOn", "mail_on"],
  ["errorMail", "error_mail"],
  ["infoMail", "info_mail"],
  ["timeoutSec", "timeout_sec"],
  ["delaySec", "delay_sec"],
  ["restartWaitSec", "restart_wait_sec"],
  ["histRetentionDays", "hist_retention_days"],
  ["maxActiveRuns", "max_active_runs"],
  ["maxActiveSteps", "max_active_steps"],
  ["maxCleanUpTimeSec", "max_clean_up_time_sec"],
  ["maxOutputSize", "max_output_size"],
  ["registryAuths", "registry_auths"],
  ["runConfig", "run_config"],
  ["workerSelector", "worker_selector"],
  // dagflare's own DAG keys
  ["parameterSet", "parameter_set"],
  // runConfig
  ["disableParamEdit", "disable_param_edit"],
  ["disableRunIdEdit", "disable_run_id_edit"],
  // A step
  ["shellPackages", "shell_packages"],
  ["continueOn", "continue_on"],
  ["retryPolicy", "retry_policy"],
  ["repeatPolicy", "repeat_policy"],
  ["mailOnError", "mail_on_error"],
  ["signalOnStop", "signal_on_stop"],
  // retryPolicy, repeatPolicy, continueOn, parallel
  ["intervalSec", "interval_sec"],
  ["maxIntervalSec", "max_interval_sec"],
  ["exitCode", "exit_code"],
  ["markSuccess", "mark_success"],
  ["maxConcurrent", "max_concurrent"],
  // Mail, container and ssh (refused, named in either spelling)
  ["attachLogs", "attach_logs"],
  ["pullPolicy", "pull_policy"],
  ["keepContainer", "keep_container"],
  ["waitFor", "wait_for"],
  ["logPattern", "log_pattern"],
  ["restartPolicy", "restart_policy"],
  ["workDir", "work_dir"],
  ["strictHostKey", "strict_host_key"],
  ["knownHostFile", "known_host_file"],
];

const CAMEL_OF = new Map(SPELLINGS.map(([camel, snake]) => [snake, camel]));

/** The camelCase key a snake_case spelling stands for; undefined for any other key. */
export function camelSpelling(key: string): string | undefined {
  return CAMEL_OF.get(key);
}
