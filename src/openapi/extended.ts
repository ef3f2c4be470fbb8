// What dagflare adds to operations of Dagu's contract. Each entry's `summary` says what it adds
// (it is appended to the contract's description), its `parameters` join the contract's, and
// `x-response-properties` join the properties of the 200 answer's object (document.ts merges).
const page = {
  name: "page",
  in: "query",
  schema: { type: "integer", minimum: 1, default: 1 },
  description: "dagflare: the page to return, from 1.",
};
const runsPerPage = {
  name: "perPage",
  in: "query",
  schema: { type: "integer", minimum: 1, maximum: 500, default: 100 },
  description: "dagflare: runs per page (`limit` is accepted as an older name).",
};
const paginationProperty = { pagination: { $ref: "#/components/schemas/Pagination" } };
const runPages = {
  get: {
    summary:
      "dagflare: `name` matches a part of the DAG name, in any case (as Dagu does); the runs come newest first in server-side pages (`page`, `perPage`), with `pagination` in the answer.",
    parameters: [page, runsPerPage],
    "x-response-properties": paginationProperty,
  },
};

export function extendedOperations(): Record<string, Record<string, Record<string, unknown>>> {
  return {
    "/dags": {
      get: {
        summary:
          "dagflare: `name` matches a part of the name in any case; `status` keeps the DAGs whose latest run has that status (a DAG without runs counts as 0, not started). Each DAG carries `nextRun` (when its schedule fires next) and `recentRuns` (its last ten runs, newest first).",
        parameters: [
          {
            name: "status",
            in: "query",
            schema: { $ref: "#/components/schemas/Status" },
            description: "dagflare: the latest run's status.",
          },
        ],
      },
    },
    "/dag-runs": runPages,
    "/dag-runs/{name}": runPages,
    "/dag-runs/{name}/{dagRunId}": {
      get: {
        summary:
          "dagflare: a queued run has `waitingFor`, why it has not started; nodes carry `attempt`, `exitCode` and the `runnerId` of a running step. The same object is pushed over the live socket (`.../live`).",
      },
    },
    "/dag-runs/{name}/{dagRunId}/steps/{stepName}/log": {
      get: {
        summary:
          "dagflare: `attempt` picks an attempt (the latest by default); the answer has `attempt` and `droppedBytes`.",
        parameters: [
          {
            name: "attempt",
            in: "query",
            schema: { type: "integer", minimum: 1 },
            description: "dagflare: which attempt; the latest by default.",
          },
        ],
        "x-response-properties": {
          attempt: { type: "integer" },
          droppedBytes: {
            type: "integer",
            description: "Log bytes dropped (past the size cap, or by a cut-off runner).",
          },
        },
      },
    },
  };
}

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
  },
  Node: {
    attempt: { type: "integer", description: "dagflare: the attempt the step is on (0 before its first)." },
    exitCode: { type: "integer", description: "dagflare: the exit code of the step's process." },
    runnerId: { type: "string", description: "dagflare: the runner holding a running step." },
  },
};
