// The live socket (docs/live.md) in the OpenAPI document: OpenAPI cannot describe a WebSocket's
// messages, so the upgrade is an operation and the messages are schemas in `x-websocket`.
import { z } from "zod";
import { ClientMessage, LIVE_PROTOCOL, LogMessage } from "../live/protocol";
import { ErrorBody } from "../shared/protocol";
import { jsonResponse, schema } from "./zod-schema";

const pathParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });

const ServerError = z.object({
  type: z.literal("error"),
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

function liveOperation(sub: boolean) {
  return {
    get: {
      summary: sub ? "Live push of a sub-DAG run (WebSocket)" : "Live push of a run and its logs (WebSocket)",
      description: [
        "A WebSocket served by the run's Durable Object (hibernation API); `latest` works as the run id.",
        `Offer the subprotocols \`${LIVE_PROTOCOL}\` and \`bearer.<token>\` (a browser cannot set headers); the server answers \`${LIVE_PROTOCOL}\`. A token in the URL is never accepted.`,
        "Server to client: `details` once (`dagRunDetails`, as GET /dag-runs/{name}/{dagRunId}), then `patch` (`run` without `nodes`, and only the changed `nodes`, at most one per 100 ms), `log` for the subscription, `error` for a bad message.",
        "Client to server: `subscribe-log` and `unsubscribe-log`. See docs/live.md.",
      ].join("\n\n"),
      operationId: sub ? "liveSubDAGRun" : "liveDAGRun",
      tags: ["dag-runs"],
      security: [{ apiToken: [] }],
      parameters: [
        pathParam("name"),
        pathParam("dagRunId"),
        ...(sub ? [pathParam("subDAGRunId")] : []),
        { name: "Upgrade", in: "header", required: true, schema: { type: "string", enum: ["websocket"] } },
        {
          name: "Sec-WebSocket-Protocol",
          in: "header",
          required: false,
          schema: { type: "string", example: `${LIVE_PROTOCOL}, bearer.<token>` },
        },
      ],
      responses: {
        "101": { description: `Switching to the WebSocket, subprotocol \`${LIVE_PROTOCOL}\`.` },
        "401": jsonResponse("No token, or a wrong one", ErrorBody),
        "404": jsonResponse("No such run", ErrorBody),
        "426": jsonResponse("Not a WebSocket upgrade", ErrorBody),
      },
      "x-websocket": {
        clientMessages: schema(ClientMessage),
        serverMessages: {
          oneOf: [
            {
              type: "object",
              required: ["type", "dagRunDetails"],
              properties: {
                type: { type: "string", enum: ["details"] },
                dagRunDetails: { $ref: "#/components/schemas/DAGRunDetails" },
              },
            },
            {
              type: "object",
              required: ["type", "run", "nodes"],
              properties: {
                type: { type: "string", enum: ["patch"] },
                run: { type: "object", description: "DAGRunDetails without `nodes`; handler nodes only when changed." },
                nodes: { type: "array", items: { $ref: "#/components/schemas/Node" } },
              },
            },
            schema(LogMessage),
            schema(ServerError),
          ],
        },
      },
    },
  };
}

export function livePaths() {
  return {
    "/dag-runs/{name}/{dagRunId}/live": liveOperation(false),
    "/dag-runs/{name}/{dagRunId}/sub-dag-runs/{subDAGRunId}/live": liveOperation(true),
  };
}
