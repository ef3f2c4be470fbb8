// The runner's socket: one outbound WebSocket to its pool's dispatcher, over which the calls of
// the HTTP protocol travel as numbered messages ({id, path, body} -> {id, status, body}). A lease
// request is answered when the server has work, so leases are pushed instead of polled, and a
// step's completion (with its next lease) costs one message each way instead of a request. HTTP
// stays the fallback: while the socket is not open every call goes over HTTP, and a call in
// flight when the socket drops is sent again over HTTP. docs/runner-protocol.md#the-socket.
import {
  ErrorBody,
  RUNNER_SOCKET_PATH,
  SOCKET_CLOSE_UNAUTHORIZED,
  SOCKET_PING,
  SOCKET_PONG,
  type SocketCall,
  type SocketCancel,
  SocketReply,
} from "../../src/shared/protocol.ts";
import { type Backoff, backoffMs, DEFAULT_BACKOFF } from "./retries.ts";
import { trace, traceNow } from "./trace.ts";
import { connectWebSocket, type WebSocketConn } from "./websocket.ts";

/** The socket is not open (or closed while a call waited): the call goes over HTTP instead. */
export class SocketDownError extends Error {
  override name = "SocketDownError";
}

/** How often the runner checks that the socket still carries messages, and how long it waits. */
const PING_INTERVAL_MS = 15_000;
const PONG_WAIT_MS = 10_000;
/** Longest wait for the server to accept the socket; HTTP carries on meanwhile anyway. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface SocketOptions {
  /** The server's base URL (http or https), as given to the runner. */
  server: string;
  token: string;
  runnerId: string;
  labels: Record<string, string>;
  log: (line: string) => void;
  /** The server refused the token (revoked, unknown): the runner stops, as on a 401. */
  onUnauthorized: (why: string) => void;
  /** Leases that arrived for a request already given up: the runner hands them back. */
  onOrphanLeases: (body: unknown) => void;
  backoff?: Backoff;
}

/** A reply: its status and its body, parsed once (the client checks it against the call's schema). */
export interface SocketAnswer {
  status: number;
  body: unknown;
}

interface Pending {
  resolve: (reply: SocketAnswer) => void;
  reject: (err: Error) => void;
  /** Given up by its caller (a withdrawn lease request): a late reply goes to onOrphanLeases. */
  abandoned?: boolean;
}

export class RunnerSocket {
  private ws: WebSocketConn | undefined;
  private connecting = false;
  private opened = false;
  private stopped = false;
  private nextId = 1;
  private failures = 0;
  private readonly pending = new Map<number, Pending>();
  private reconnect: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private pongDue: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: SocketOptions) {}

  get isOpen(): boolean {
    return this.opened && this.ws?.isOpen === true;
  }

  /** Opens the socket; resolves once it is open or its attempt failed (HTTP carries on then). */
  async start(): Promise<void> {
    if (this.stopped || this.ws || this.connecting) return;
    const url = new URL(`${this.opts.server.replace(/\/+$/, "")}/api/v2/runners${RUNNER_SOCKET_PATH}`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("runnerId", this.opts.runnerId);
    url.searchParams.set("labels", JSON.stringify(this.opts.labels));
    const headers: Record<string, string> = { "user-agent": "dagflare-runner" };
    if (this.opts.token !== "") headers.authorization = `Bearer ${this.opts.token}`;
    let settle: () => void = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.connecting = true;
    let conn: WebSocketConn;
    try {
      conn = await connectWebSocket(
        url,
        { headers, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
        {
          onOpen: () => {
            this.opened = true;
            this.failures = 0;
            this.opts.log("socket open: leases are pushed, results sent over it");
            this.pinger = setInterval(() => this.ping(), PING_INTERVAL_MS);
            this.pinger.unref();
            settle();
          },
          onMessage: (text) => this.onMessage(text),
          // Said as an HTTP call's refusal is: "403 forbidden: <the server's message>".
          onRefused: (status, text) => {
            const body = ErrorBody.safeParse(parseJson(text));
            this.opts.onUnauthorized(
              body.success ? `${status} ${body.data.code}: ${body.data.message}` : `HTTP ${status}`,
            );
          },
          onClose: (code, reason) => {
            this.onClose(code, reason);
            settle();
          },
        },
      );
    } finally {
      this.connecting = false;
    }
    this.ws = conn;
    // Stopped while the connection was being made.
    if (this.stopped) conn.close(1000, "runner stopping");
    await settled;
  }

  /** Closes the socket for good (the runner is quitting). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnect);
    this.ws?.close(1000, "runner stopping");
  }

  /**
   * One call over the socket. Rejects with SocketDownError when the socket is not open or
   * drops before the answer (the caller then uses HTTP), and with `signal`'s reason when the
   * caller gives up; a lease request given up is withdrawn.
   */
  call(path: string, body: unknown, signal?: AbortSignal, timeoutMs?: number): Promise<SocketAnswer> {
    const ws = this.ws;
    if (!ws || !this.isOpen) return Promise.reject(new SocketDownError("socket not open"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const entry: Pending = {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = () => {
        done();
        entry.abandoned = true;
        if (path === "/lease") this.send({ cancel: id } satisfies SocketCancel);
        else this.pending.delete(id);
        reject(new Error("aborted"));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.pending.delete(id);
          entry.reject(new SocketDownError("no answer over the socket in time"));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      trace?.("sock-out", { call: id, path });
      if (!this.send({ id, path, body } satisfies SocketCall)) {
        this.pending.delete(id);
        entry.reject(new SocketDownError("socket not open"));
      }
    });
  }

  private send(msg: SocketCall | SocketCancel): boolean {
    if (!this.ws || !this.isOpen) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  private onMessage(text: string): void {
    const arrivedAt = trace && traceNow();
    if (text === SOCKET_PONG) {
      clearTimeout(this.pongDue);
      return;
    }
    let reply: SocketReply;
    try {
      reply = SocketReply.parse(JSON.parse(text));
    } catch {
      this.opts.log("socket: a message that is not the protocol; closing it");
      this.ws?.terminate();
      return;
    }
    trace?.("sock-in", { call: reply.id }, arrivedAt);
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.pending.delete(reply.id);
    if (entry.abandoned) this.opts.onOrphanLeases(reply.body);
    else entry.resolve({ status: reply.status, body: reply.body });
  }

  /** A socket that stops answering (a half-open connection) is closed, so HTTP takes over. */
  private ping(): void {
    if (!this.ws || !this.isOpen) return;
    this.ws.send(SOCKET_PING);
    clearTimeout(this.pongDue);
    this.pongDue = setTimeout(() => this.ws?.terminate(), PONG_WAIT_MS);
    this.pongDue.unref();
  }

  private onClose(code: number, reason: string): void {
    const wasOpen = this.opened;
    this.opened = false;
    this.ws = undefined;
    clearInterval(this.pinger);
    clearTimeout(this.pongDue);
    for (const entry of this.pending.values()) {
      if (!entry.abandoned) entry.reject(new SocketDownError(`socket closed (${code})`));
    }
    this.pending.clear();
    if (code === SOCKET_CLOSE_UNAUTHORIZED) {
      this.opts.onUnauthorized(`socket closed by the server: ${reason || "token refused"}`);
      return;
    }
    if (this.stopped) return;
    if (wasOpen) this.opts.log(`socket closed (${code}${reason ? `: ${reason}` : ""}); using HTTP until it reopens`);
    else if (this.failures === 0) this.opts.log("socket could not open; using HTTP, and trying the socket again");
    this.failures++;
    this.reconnect = setTimeout(
      () => void this.start(),
      backoffMs(this.failures, this.opts.backoff ?? DEFAULT_BACKOFF),
    );
    this.reconnect.unref();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
