// dagflare's additions to Dagu's v2 contract, as OpenAPI 3.0 operations built from the same zod
// schemas the routes and the runner use: the runner protocol, runner tokens, queue admin,
// outputs, approvals, cleanup, the live socket, and extra parameters of Dagu's own operations
// (src/openapi/document.ts merges those into the contract's operation).
import type { z } from "zod";
import { CleanupRequest, CleanupResponse, RetryRequest } from "../routes/dag-runs";
import { PurgeResponse, QueueConfigRequest, QueueConfigResponse } from "../routes/queues";
import {
  CreateRunnerTokenRequest,
  CreateRunnerTokenResponse,
  RunnerTokenInfo,
  RunnerTokenList,
} from "../runner-tokens";
import {
  ApprovalRequest,
  ApprovalResponse,
  CompleteRequest,
  CompleteResponse,
  ErrorBody,
  HeartbeatRequest,
  HeartbeatResponse,
  LeaseRequest,
  LeaseResponse,
  LogAppendRequest,
  LogAppendResponse,
  ReleaseRequest,
  RunOutputs,
} from "../shared/protocol";
import { extendedOperations } from "./extended";
import { livePaths } from "./live";
import { runnerSocketPaths } from "./runner-socket";
import { jsonResponse, schema } from "./zod-schema";

function post(
  summary: string,
  request: z.ZodType,
  response: z.ZodType | null,
  withLease: boolean,
  security: "runnerToken" | "apiToken" = "runnerToken",
) {
  return {
    post: {
      summary,
      tags: [security === "runnerToken" ? "runners" : "dag-runs"],
      security: [{ [security]: [] }],
      ...(withLease && {
        parameters: [{ name: "leaseId", in: "path", required: true, schema: { type: "string" } }],
      }),
      requestBody: { required: true, content: { "application/json": { schema: schema(request) } } },
      responses: {
        "200": {
          description: "OK",
          content: { "application/json": { schema: response ? schema(response) : { type: "object" } } },
        },
        "409": {
          description: "The lease is no longer current (expired, superseded, or the run stopped).",
          content: { "application/json": { schema: schema(ErrorBody) } },
        },
        default: { description: "Error", content: { "application/json": { schema: schema(ErrorBody) } } },
      },
    },
  };
}

const queueName = {
  name: "name",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,64}$" },
};

/** Paths and operations, keyed like an OpenAPI `paths` object. */
export function additions(): Record<string, Record<string, Record<string, unknown>>> {
  return {
    "/runners/lease": post("Lease ready steps (long poll)", LeaseRequest, LeaseResponse, false),
    "/runners/leases/{leaseId}/heartbeat": post(
      "Extend a lease; learn of cancellation",
      HeartbeatRequest,
      HeartbeatResponse,
      true,
    ),
    "/runners/leases/{leaseId}/logs": post(
      "Append log entries (idempotent by seq)",
      LogAppendRequest,
      LogAppendResponse,
      true,
    ),
    "/runners/leases/{leaseId}/complete": post(
      "Report the outcome (idempotent)",
      CompleteRequest,
      CompleteResponse,
      true,
    ),
    "/runners/leases/{leaseId}/release": post("Give a lease back", ReleaseRequest, null, true),
    "/dag-runs/cleanup": post(
      "Remove finished runs older than an age, with their stored state",
      CleanupRequest,
      CleanupResponse,
      false,
      "apiToken",
    ),
    "/runner-tokens": {
      get: {
        summary: "List runner tokens (never the secrets)",
        tags: ["runner-tokens"],
        security: [{ apiToken: [] }],
        responses: { "200": jsonResponse("The tokens, newest first", RunnerTokenList) },
      },
      post: {
        summary: "Create a runner token; the secret is in this response only",
        tags: ["runner-tokens"],
        security: [{ apiToken: [] }],
        requestBody: {
          required: true,
          content: { "application/json": { schema: schema(CreateRunnerTokenRequest) } },
        },
        responses: {
          "201": jsonResponse("Created", CreateRunnerTokenResponse),
          default: jsonResponse("Error", ErrorBody),
        },
      },
    },
    "/runner-tokens/{id}": {
      delete: {
        summary: "Revoke a runner token: a runner using it is refused at its next call",
        tags: ["runner-tokens"],
        security: [{ apiToken: [] }],
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": jsonResponse("The revoked token", RunnerTokenInfo),
          "404": jsonResponse("No such token", ErrorBody),
          default: jsonResponse("Error", ErrorBody),
        },
      },
    },
    "/queues/{name}": {
      put: {
        summary: "Create or change a named queue's maxConcurrency (runs waiting in it may start)",
        tags: ["queues"],
        security: [{ apiToken: [] }],
        parameters: [queueName],
        requestBody: { required: true, content: { "application/json": { schema: schema(QueueConfigRequest) } } },
        responses: {
          "200": { description: "OK", content: { "application/json": { schema: schema(QueueConfigResponse) } } },
          default: { description: "Error", content: { "application/json": { schema: schema(ErrorBody) } } },
        },
      },
      delete: {
        summary: "Forget a named queue's configuration (it falls back to maxConcurrency 1)",
        tags: ["queues"],
        security: [{ apiToken: [] }],
        parameters: [queueName],
        responses: {
          "204": { description: "Removed" },
          "404": { description: "Not configured", content: { "application/json": { schema: schema(ErrorBody) } } },
        },
      },
    },
    "/queues/{name}/purge": {
      post: {
        summary: "Take every waiting run out of a queue (a named queue or a DAG's own); each ends aborted",
        tags: ["queues"],
        security: [{ apiToken: [] }],
        parameters: [queueName],
        responses: {
          "200": { description: "OK", content: { "application/json": { schema: schema(PurgeResponse) } } },
          default: { description: "Error", content: { "application/json": { schema: schema(ErrorBody) } } },
        },
      },
    },
    "/dag-runs/{name}/{dagRunId}/steps/{stepName}/approve": post(
      "Approve a step waiting for approval: it runs (or, without a command, succeeds)",
      ApprovalRequest,
      ApprovalResponse,
      false,
      "apiToken",
    ),
    "/dag-runs/{name}/{dagRunId}/steps/{stepName}/reject": post(
      "Reject a step waiting for approval: the run stops and ends rejected",
      ApprovalRequest,
      ApprovalResponse,
      false,
      "apiToken",
    ),
    "/dag-runs/{name}/{dagRunId}/retry": post(
      "Dagu's retry, in place (same run id, params, env and directory), plus `dependents` (with stepName) and `failedOnly`",
      RetryRequest,
      null,
      false,
      "apiToken",
    ),
    "/dag-runs/{name}/{dagRunId}/outputs": {
      get: {
        summary: "Every step's output variables",
        tags: ["dag-runs"],
        security: [{ apiToken: [] }],
        parameters: ["name", "dagRunId"].map((name) => ({
          name,
          in: "path",
          required: true,
          schema: { type: "string" },
        })),
        responses: {
          "200": { description: "OK", content: { "application/json": { schema: schema(RunOutputs) } } },
          default: { description: "Error", content: { "application/json": { schema: schema(ErrorBody) } } },
        },
      },
    },
    ...extendedOperations(),
    ...livePaths(),
    ...runnerSocketPaths(),
  };
}
