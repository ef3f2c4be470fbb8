// What dagflare adds to schemas of Dagu's contract (all optional); what it adds to Dagu's
// operations is said where each route describes itself (route-docs.ts).

/** The `pagination` field dagflare adds to the answers of run lists. */
export const paginationProperty = { pagination: { $ref: "#/components/schemas/Pagination" } };

/** Properties dagflare adds to schemas of the contract (all optional). */
export const SCHEMA_EXTENSIONS: Record<string, Record<string, unknown>> = {
  DAGFile: {
    nextRun: { type: "string", format: "date-time", description: "dagflare: when the schedule fires next." },
    recentRuns: {
      type: "array",
      maxItems: 10,
      description: "dagflare: the DAG's last runs, newest first (GET /dags).",
      items: {
        type: "object",
        required: ["dagRunId", "status", "statusLabel", "startedAt"],
        properties: {
          dagRunId: { type: "string" },
          status: { $ref: "#/components/schemas/Status" },
          statusLabel: { $ref: "#/components/schemas/StatusLabel" },
          startedAt: { type: "string", description: "RFC 3339, or `-` before it started." },
        },
      },
    },
  },
  DAGRunDetails: {
    waitingFor: { type: "string", description: "dagflare: why a queued run has not started." },
    actions: {
      type: "array",
      description:
        "dagflare: who did what to the run, oldest first: `start`, `enqueue`, `reschedule`, `stop`, `dequeue` (taken out of its queue), `purge` (taken out with every waiting run of its queue), `retry`, `approve`, `reject` or `set-status` (with the `step` for a step's), by a user (`actorKind` `user`, `actor` the user name), an API key (`api-key`, its name), the operator's token (`operator-token`), anyone on an open server (`open`), or dagflare itself (`system`: `schedule`). Shown on `GET /dag-runs/{name}/{dagRunId}` only.",
      items: {
        type: "object",
        required: ["action", "actor", "actorKind", "at"],
        properties: {
          action: { type: "string" },
          step: { type: "string" },
          actor: { type: "string" },
          actorKind: { type: "string", enum: ["user", "api-key", "operator-token", "open", "system"] },
          at: { type: "string", format: "date-time" },
        },
      },
    },
    notifications: {
      type: "array",
      description:
        "dagflare: the mail of a finished run whose DAG has `mailOn` (errorMail on failure, infoMail on success), and how its sending went: `pending` (waiting for its first or next attempt), `sent`, or `failed` (given up after its last attempt, `lastError` says why).",
      items: {
        type: "object",
        required: ["kind", "to", "subject", "status", "attempts"],
        properties: {
          kind: { type: "string", enum: ["errorMail", "infoMail"] },
          to: { type: "array", items: { type: "string" } },
          subject: { type: "string" },
          status: { type: "string", enum: ["pending", "sent", "failed"] },
          attempts: { type: "integer" },
          lastError: { type: "string" },
          sentAt: { type: "string", format: "date-time" },
          nextAttemptAt: { type: "string", format: "date-time" },
        },
      },
    },
  },
  Node: {
    attempt: { type: "integer", description: "dagflare: the attempt the step is on (0 before its first)." },
    exitCode: { type: "integer", description: "dagflare: the exit code of the step's process." },
    runnerId: {
      type: "string",
      description:
        "dagflare: the runner holding the step's lease; once the lease ended, the runner that last ran the step (absent when unknown, as on runs stored before dagflare kept it).",
    },
    instances: {
      type: "array",
      description:
        "dagflare: on a `parallel` step's node, the node of each of its instances (`step[1]`, `step[2]`, ...), in item order.",
      items: { $ref: "#/components/schemas/Node" },
    },
  },
};
