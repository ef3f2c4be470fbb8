// The runner's socket (docs/runner-protocol.md#the-socket) in the OpenAPI document: the upgrade
// is an operation, described on its route (routes/runners.ts), and its messages are schemas in
// `x-websocket`, as for the live socket.
import { ErrorBody, SocketCall, SocketCancel, SocketReply } from "../shared/protocol";
import { dagflare, jsonResponse } from "./route-docs";
import { schema } from "./zod-schema";

export const runnerSocketDoc = dagflare({
  summary: "A runner's socket: leases pushed, lease calls answered (WebSocket)",
  description: [
    "A WebSocket held by the runner's pool's DispatchObject (hibernation API), authenticated with `Authorization: Bearer <runner token>` like every runner call.",
    "Runner to server: `{ id, path, body }`, the same paths and bodies as the HTTP runner calls (`/lease`, `/leases/{leaseId}/{heartbeat,logs,complete,release}`, `/completions`), and `{ cancel: id }` to withdraw a lease request. Server to runner: `{ id, status, body }`, the status and body the HTTP call would have had; a lease request is answered when there is work.",
    "Closed with 4401 when the token is revoked. See docs/runner-protocol.md.",
  ].join("\n\n"),
  operationId: "runnerSocket",
  tags: ["runners"],
  security: [{ runnerToken: [] }],
  parameters: [
    { name: "runnerId", in: "query", required: true, schema: { type: "string", maxLength: 200 } },
    { name: "labels", in: "query", required: false, schema: { type: "string", example: '{"pool":"default"}' } },
    { name: "Upgrade", in: "header", required: true, schema: { type: "string", enum: ["websocket"] } },
  ],
  responses: {
    "101": { description: "Switching to the WebSocket." },
    "400": jsonResponse("A malformed runner id, labels or pool", ErrorBody),
    "401": jsonResponse("No runner token, or an unknown or revoked one", ErrorBody),
    "403": jsonResponse("A pool the token does not serve", ErrorBody),
    "409": jsonResponse("The runner id of a live runner of another token", ErrorBody),
    "426": jsonResponse("Not a WebSocket upgrade", ErrorBody),
  },
  "x-websocket": {
    clientMessages: { oneOf: [schema(SocketCall), schema(SocketCancel)] },
    serverMessages: schema(SocketReply),
  },
});
