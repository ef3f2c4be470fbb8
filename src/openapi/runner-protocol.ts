// The runner protocol (docs/runner-protocol.md) in the OpenAPI document, from the zod schemas
// the routes and the runner share. Its routes (routes/runners.ts) read their bodies by hand, so
// they are listed here; test/workers/openapi.test.ts checks that this list and the routes agree.
import type { z } from "zod";
import {
  CompleteRequest,
  CompleteResponse,
  CompletionsRequest,
  CompletionsResponse,
  ErrorBody,
  HeartbeatRequest,
  HeartbeatResponse,
  LeaseRequest,
  LeaseResponse,
  LogAppendRequest,
  LogAppendResponse,
  ReleaseRequest,
  RunnerHeartbeatRequest,
} from "../shared/protocol";
import { runnerSocketPaths } from "./runner-socket";
import { schema } from "./zod-schema";

function post(summary: string, request: z.core.$ZodType, response: z.core.$ZodType | null, withLease: boolean) {
  return {
    post: {
      summary,
      tags: ["runners"],
      security: [{ runnerToken: [] }],
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
      "x-dagflare": true,
    },
  };
}

export function runnerProtocolPaths() {
  return {
    "/runners/lease": post("Lease ready steps (long poll)", LeaseRequest, LeaseResponse, false),
    "/runners/heartbeat": post(
      "A runner's own heartbeat: its labels, slots and running steps (GET /workers shows them)",
      RunnerHeartbeatRequest,
      null,
      false,
    ),
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
    "/runners/completions": post(
      "Report several outcomes in one call, each answered with its own status (idempotent)",
      CompletionsRequest,
      CompletionsResponse,
      false,
    ),
    ...runnerSocketPaths(),
  };
}
