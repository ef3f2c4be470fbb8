// The runner reports itself (id, labels, slots, running steps) every few seconds, so that the
// fleet view (GET /workers) can show it and judge its health by the age of its last report.
import { RUNNER_HEARTBEAT_INTERVAL_MS, type RunnerHeartbeatRequest } from "../../src/shared/protocol.ts";
import { AuthError, type Log, type RunnerClient } from "./client.ts";

/** Starts reporting at once and then every `intervalMs`; returns a function that stops it. */
export function startFleetReports(opts: {
  client: Pick<RunnerClient, "reportRunner">;
  log: Log;
  snapshot: () => RunnerHeartbeatRequest;
  intervalMs?: number;
  /** The server refused the token (revoked): the runner cannot go on. */
  onAuthError?: (err: AuthError) => void;
}): () => void {
  const intervalMs = opts.intervalMs ?? RUNNER_HEARTBEAT_INTERVAL_MS;
  let lastError = "";
  const report = () =>
    opts.client.reportRunner(opts.snapshot(), intervalMs).then(
      () => {
        lastError = "";
      },
      (err: Error) => {
        if (err instanceof AuthError) return opts.onAuthError?.(err);
        // Leasing does not depend on these reports, and the lease calls say what is wrong with
        // the server or the token: log each kind of failure once and keep going.
        if (err.message !== lastError) opts.log(`runner report failed: ${err.message}`);
        lastError = err.message;
      },
    );
  void report();
  const timer = setInterval(() => void report(), intervalMs);
  return () => clearInterval(timer);
}
