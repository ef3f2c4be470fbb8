// A TCP proxy for tests, between a runner and the server, that can cut the network: "refuse"
// resets every connection (open ones and new ones) at once; "blackhole" accepts connections and
// swallows what they send, so calls hang until their own timeouts, as behind a dead link.
// `refuseSockets` drops WebSocket upgrades only, as a proxy that does not pass them would.
// `replyDelayMs` holds what the server sends back for that long, in order, as a slow link would.
import { connect, createServer, type Server, type Socket } from "node:net";

export type CutMode = "refuse" | "blackhole";

export class CutProxy {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  private mode: CutMode | undefined;
  /** Drop connections that ask for a WebSocket upgrade; plain HTTP passes. */
  refuseSockets = false;
  /** Every byte from the server reaches the runner this much later (a slow link back). */
  replyDelayMs = 0;
  /** Figures for reports: connections forwarded, and connections dropped while cut. */
  readonly stats = { forwarded: 0, dropped: 0, cuts: 0 };

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<string> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const addr = this.server.address();
    if (!addr || typeof addr !== "object") throw new Error("proxy did not start");
    return `http://127.0.0.1:${addr.port}`;
  }

  get isCut(): boolean {
    return this.mode !== undefined;
  }

  /** Cuts the network: every open connection is dropped, and new ones as `mode` says. */
  cut(mode: CutMode = "refuse"): void {
    this.mode = mode;
    this.stats.cuts++;
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  restore(): void {
    this.mode = undefined;
    // Connections swallowed while blackholed would hang on: end them now.
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    client.on("error", () => {});
    if (this.mode === "refuse") {
      this.stats.dropped++;
      client.resetAndDestroy();
      return;
    }
    this.open.add(client);
    client.once("close", () => this.open.delete(client));
    if (this.mode === "blackhole") {
      this.stats.dropped++;
      client.resume();
      return;
    }
    this.stats.forwarded++;
    const upstream = connect(this.target.port, this.target.host, () => {
      if (!this.refuseSockets) {
        client.pipe(upstream);
        this.back(upstream, client);
        return;
      }
      client.once("data", (first: Buffer) => {
        if (/^upgrade:\s*websocket/im.test(first.toString("latin1"))) {
          this.stats.dropped++;
          client.destroy();
          return;
        }
        upstream.write(first);
        client.pipe(upstream);
        this.back(upstream, client);
      });
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    this.open.add(upstream);
    upstream.once("close", () => {
      this.open.delete(upstream);
      // What the server sent last is still on its way back.
      if (this.replyDelayMs > 0) setTimeout(() => client.destroy(), this.replyDelayMs + 1);
      else client.destroy();
    });
    client.once("close", () => upstream.destroy());
  }

  /** The server's bytes to the runner, held `replyDelayMs` each (timers of one delay keep their order). */
  private back(upstream: Socket, client: Socket): void {
    const delay = this.replyDelayMs;
    if (delay <= 0) {
      upstream.pipe(client);
      return;
    }
    upstream.on("data", (chunk: Buffer) => setTimeout(() => client.write(chunk), delay));
    upstream.on("end", () => setTimeout(() => client.end(), delay));
  }
}
