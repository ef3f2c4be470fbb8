// The WebSocket under the runner's socket: the `ws` package, on every Node version. Not Node's
// own `WebSocket` (Node 22): that is undici, which the runner leaves unloaded, since it would
// keep about 12 MiB of an idle runner's memory; `ws` runs on node:http and node:https, which the
// runner's HTTP calls use too (http-post.ts; BENCHMARKS.md "Runner idle memory (2026-12-01,
// without undici)"). The socket sees it through this small surface.
import { agentFor } from "./http-post.ts";

/** A connection. */
export interface WebSocketConn {
  readonly isOpen: boolean;
  send(text: string): void;
  /** A clean close (the runner is stopping). */
  close(code: number, reason: string): void;
  /** Drops the connection now, for one that stopped answering: "close" follows at once. */
  terminate(): void;
}

export interface WebSocketEvents {
  onOpen(): void;
  onMessage(text: string): void;
  /** Once per connection, whether it opened or not. */
  onClose(code: number, reason: string): void;
  /** The server refused the upgrade with 401 or 403, and said why. */
  onRefused(status: number, body: string): void;
}

interface Options {
  headers: Record<string, string>;
  /** A connection accepted and never answered (a dead link) must not wait forever. */
  handshakeTimeoutMs: number;
}

export async function connectWebSocket(url: URL, opts: Options, ev: WebSocketEvents): Promise<WebSocketConn> {
  const { default: WebSocket } = await import("ws");
  const ws = new WebSocket(url, {
    headers: opts.headers,
    perMessageDeflate: false,
    handshakeTimeout: opts.handshakeTimeoutMs,
    agent: agentFor(url.href),
  });
  ws.on("open", () => ev.onOpen());
  ws.on("message", (data) => ev.onMessage(data.toString()));
  ws.on("unexpected-response", (_req, res) => {
    const status = res.statusCode ?? 0;
    if (status !== 401 && status !== 403) {
      res.resume();
      ws.terminate();
      return;
    }
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => (text += chunk));
    res.on("end", () => {
      ws.terminate();
      ev.onRefused(status, text);
    });
  });
  ws.on("error", () => {
    // Followed by "close", which decides what happens next.
  });
  ws.on("close", (code, reason) => ev.onClose(code, reason.toString()));
  return {
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
  };
}
