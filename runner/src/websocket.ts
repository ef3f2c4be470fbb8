// The WebSocket under the runner's socket: Node's own (Node 22 and later) where there is one,
// else the `ws` package, loaded only then. Node's own costs an idle runner about 6 MiB less
// (BENCHMARKS.md "Runner idle memory": `ws` loads node:http, https, tls and zlib besides what
// `fetch` already loaded). Both are used through this small surface.

/** A connection, whichever implementation carries it. */
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
  /** The server refused the upgrade with 401 or 403, and said why (`ws` only: Node's own cannot tell). */
  onRefused(status: number, body: string): void;
}

interface Options {
  headers: Record<string, string>;
  /** A connection accepted and never answered (a dead link) must not wait forever. */
  handshakeTimeoutMs: number;
}

/** The standard's readyState values. */
const READY_OPEN = 1;
const READY_CLOSED = 3;

/** Node's own WebSocket takes headers as an extension of the standard constructor (undici). */
type NodeWebSocket = new (url: string, init: { headers: Record<string, string> }) => WebSocket;

export async function connectWebSocket(url: URL, opts: Options, ev: WebSocketEvents): Promise<WebSocketConn> {
  const Native = (globalThis as unknown as { WebSocket?: NodeWebSocket }).WebSocket;
  return Native ? connectNative(Native, url, opts, ev) : connectWs(url, opts, ev);
}

function connectNative(Native: NodeWebSocket, url: URL, opts: Options, ev: WebSocketEvents): WebSocketConn {
  const ws = new Native(url.href, { headers: opts.headers });
  let closed = false;
  const closeOnce = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(handshake);
    ev.onClose(code, reason);
  };
  const handshake = setTimeout(() => conn.terminate(), opts.handshakeTimeoutMs);
  ws.addEventListener("open", () => {
    clearTimeout(handshake);
    ev.onOpen();
  });
  ws.addEventListener("message", (e) => {
    if (!closed) ev.onMessage(typeof e.data === "string" ? e.data : Buffer.from(e.data as ArrayBuffer).toString());
  });
  // A refused upgrade gives "error" without "close" (the HTTP connection stays open): either
  // ends the connection for the runner, which then decides what happens next.
  ws.addEventListener("error", () => conn.terminate());
  ws.addEventListener("close", (e) => closeOnce(e.code, e.reason));
  const conn: WebSocketConn = {
    get isOpen() {
      return !closed && ws.readyState === READY_OPEN;
    },
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => {
      if (closed) return;
      // The closing handshake of a dead link would wait on TCP: the runner moves on now.
      closeOnce(1006, "terminated");
      if (ws.readyState !== READY_CLOSED) ws.close();
    },
  };
  return conn;
}

async function connectWs(url: URL, opts: Options, ev: WebSocketEvents): Promise<WebSocketConn> {
  const { default: WebSocket } = await import("ws");
  const ws = new WebSocket(url, {
    headers: opts.headers,
    perMessageDeflate: false,
    handshakeTimeout: opts.handshakeTimeoutMs,
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
