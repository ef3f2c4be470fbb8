// GET /openapi.json: dagflare's additions to the Dagu v2 contract, as an OpenAPI 3.1 document
// built from the same zod schemas the routes and the runner use. The Dagu endpoints themselves
// are described by Dagu's contract (contracts/dagu-api-v2.yaml).
import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import {
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
import { CleanupRequest, CleanupResponse } from "./dag-runs";
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
        runnerToken: { type: "http", scheme: "bearer", description: "DAGFLARE_RUNNER_TOKEN" },
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
