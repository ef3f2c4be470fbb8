// The runner's socket: numbered calls over one WebSocket (docs/runner-protocol.md#the-socket).
import * as z from "zod/mini";

/** GET under RUNNER_API_PREFIX that opens a runner's socket (a WebSocket upgrade). */
export const RUNNER_SOCKET_PATH = "/socket";

/**
 * Runner to server: one call, the same path and body as over HTTP (`/lease`,
 * `/leases/{leaseId}/{heartbeat|logs|complete|release}`), numbered by the runner.
 */
export const SocketCall = z.object({
  id: z.int().check(z.nonnegative()),
  path: z.string().check(z.maxLength(400)),
  body: z.unknown(),
});
export type SocketCall = z.infer<typeof SocketCall>;

/** Runner to server: withdraw the lease request numbered `cancel` (the runner is draining). */
export const SocketCancel = z.object({ cancel: z.int().check(z.nonnegative()) });
export type SocketCancel = z.infer<typeof SocketCancel>;

export const SocketClientMessage = z.union([SocketCall, SocketCancel]);

/** Server to runner: the answer to call `id`, with the HTTP status and body it would have had. */
export const SocketReply = z.object({
  id: z.int().check(z.nonnegative()),
  status: z.int(),
  body: z.unknown(),
});
export type SocketReply = z.infer<typeof SocketReply>;

/** The runner's keep-alive message and its answer (the server answers it without waking). */
export const SOCKET_PING = '{"ping":1}';
export const SOCKET_PONG = '{"pong":1}';

/** Close code of a socket whose token was revoked (or is unknown): the runner stops, as on a 401. */
export const SOCKET_CLOSE_UNAUTHORIZED = 4401;
