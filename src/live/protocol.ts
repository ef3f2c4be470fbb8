// The live socket's wire format (GET /dag-runs/{name}/{dagRunId}/live), shared by the route, the
// RunObject's live module and the OpenAPI document. Browsers cannot set headers on a WebSocket,
// so the user token travels as a subprotocol: `Sec-WebSocket-Protocol: dagflare.v1, bearer.<token>`.
import { z } from "zod";

/** The subprotocol the server answers with; a client offers it on every live socket. */
export const LIVE_PROTOCOL = "dagflare.v1";
const BEARER_PREFIX = "bearer.";

/** Lines sent at a log subscription when the client names no `tail`. */
export const DEFAULT_LIVE_TAIL_LINES = 1000;
/** Most lines one subscription may ask for (the log read's own `limit` bound). */
export const MAX_LIVE_TAIL_LINES = 10_000;

export const SubscribeLog = z.object({
  type: z.literal("subscribe-log"),
  stepName: z.string().min(1),
  stream: z.enum(["stdout", "stderr"]),
  /** Without it: the latest attempt, following new attempts as they start. */
  attempt: z.number().int().min(1).optional(),
  tail: z.number().int().min(1).max(MAX_LIVE_TAIL_LINES).default(DEFAULT_LIVE_TAIL_LINES),
});
export type SubscribeLog = z.infer<typeof SubscribeLog>;

export const ClientMessage = z.discriminatedUnion("type", [
  SubscribeLog,
  z.object({ type: z.literal("unsubscribe-log") }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const LogMessage = z.object({
  type: z.literal("log"),
  stepName: z.string(),
  stream: z.enum(["stdout", "stderr"]),
  attempt: z.number().int(),
  /** True: `content` replaces what the client shows (the tail at a subscription or a new attempt). */
  reset: z.boolean(),
  content: z.string(),
});
export type LogMessage = z.infer<typeof LogMessage>;

/** The user token a WebSocket upgrade offers as a `bearer.<token>` subprotocol, if any. */
export function subprotocolToken(req: Request): string | undefined {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  for (const p of offeredProtocols(req))
    if (p.startsWith(BEARER_PREFIX)) return p.slice(BEARER_PREFIX.length) || undefined;
  return undefined;
}

export function offeredProtocols(req: Request): string[] {
  return (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}
