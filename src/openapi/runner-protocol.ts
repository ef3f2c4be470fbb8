// How the runner protocol's routes (routes/runners.ts) describe themselves in the OpenAPI
// document, from the zod schemas the routes and the runner share (docs/runner-protocol.md).
// The routes read their bodies by hand (the same calls come over the runner's socket, which
// parses them the same way: dispatch/lease-calls.ts), so each names its request and answer here.
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
import { dagflare } from "./route-docs";
import { schema } from "./zod-schema";

function post(summary: string, request: z.core.$ZodType, response: z.core.$ZodType | null, withLease: boolean) {
  return dagflare({
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
  });
}

/** Each runner route's description, by route: the first middleware of its route. */
export const runnerDocs = {
  lease: post("Lease ready steps (long poll)", LeaseRequest, LeaseResponse, false),
  heartbeat: post(
    "A runner's own heartbeat: its labels, slots and running steps (GET /workers shows them)",
    RunnerHeartbeatRequest,
    null,
    false,
  ),
  leaseHeartbeat: post("Extend a lease; learn of cancellation", HeartbeatRequest, HeartbeatResponse, true),
  logs: post("Append log entries (idempotent by seq)", LogAppendRequest, LogAppendResponse, true),
  complete: post("Report the outcome (idempotent)", CompleteRequest, CompleteResponse, true),
  release: post("Give a lease back", ReleaseRequest, null, true),
  completions: post(
    "Report several outcomes in one call, each answered with its own status (idempotent)",
    CompletionsRequest,
    CompletionsResponse,
    false,
  ),
};
