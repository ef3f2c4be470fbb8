// GET /openapi.json: dagflare's additions to the Dagu v2 contract, as an OpenAPI 3.1 document
// built from the same zod schemas the routes and the runner use. The Dagu endpoints themselves
// are described by Dagu's contract (contracts/dagu-api-v2.yaml).
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
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
} from "../protocol";
import {
  CreateRunnerTokenRequest,
  CreateRunnerTokenResponse,
  RunnerTokenInfo,
  RunnerTokenList,
} from "../runner-tokens";
import { CleanupRequest, CleanupResponse, RetryRequest } from "./dag-runs";
import { PurgeResponse, QueueConfigRequest, QueueConfigResponse } from "./queues";
import { VERSION } from "./system";

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });

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

const jsonResponse = (description: string, s: z.ZodType) => ({
  description,
  content: { "application/json": { schema: schema(s) } },
});
const queueName = {
  name: "name",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,64}$" },
};

let cached: unknown;

export function openApiDocument() {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "dagflare: additions to the Dagu v2 API",
      version: VERSION,
      description:
        "The Dagu v2 endpoints are served as Dagu's contract describes. This document covers what dagflare adds: the runner protocol (docs/runner-protocol.md) and extra query parameters.",
    },
    servers: [{ url: "/api/v2" }],
    components: {
      securitySchemes: {
        apiToken: { type: "http", scheme: "bearer", description: "DAGFLARE_API_TOKEN" },
        runnerToken: {
          type: "http",
          scheme: "bearer",
          description: "DAGFLARE_RUNNER_TOKEN, or a token created with POST /runner-tokens",
        },
      },
    },
    paths: {
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
      "/dag-runs/{name}/{dagRunId}": {
        get: {
          summary: "Dagu's run details, plus `waitingFor` on a queued run: why it has not started",
          security: [{ apiToken: [] }],
          responses: { "200": { description: "Dagu's DAGRunDetails, plus `waitingFor` (string) when queued." } },
        },
      },
      "/dags": {
        get: {
          summary: "Dagu's DAG list, plus `nextRun` (RFC 3339) on each scheduled DAG that is not suspended",
          security: [{ apiToken: [] }],
          responses: { "200": { description: "Dagu's DAG list; GET /dags/{fileName} has `nextRun` too." } },
        },
      },
      "/dag-runs/{name}/{dagRunId}/steps/{stepName}/log": {
        get: {
          summary: "Dagu's step log, plus the `attempt` parameter",
          security: [{ apiToken: [] }],
          parameters: [
            {
              name: "attempt",
              in: "query",
              schema: { type: "integer", minimum: 1 },
              description: "Which attempt; the latest by default.",
            },
          ],
          responses: { "200": { description: "Dagu's Log object, plus `attempt` and `droppedBytes`." } },
        },
      },
    },
  };
  return cached;
}

export const openapi = new Hono<{ Bindings: Env }>().get("/openapi.json", (c) => c.json(openApiDocument() as object));
