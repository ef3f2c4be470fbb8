// A small SMTP client (RFC 5321) over a TCP socket: STARTTLS (RFC 3207) or TLS from the first
// byte, AUTH PLAIN or LOGIN (RFC 4954), one message per connection. It takes the socket's
// `connect` as an argument: cloudflare:sockets' in the Worker (src/mail/mail-object.ts).
//
// Safety: a session that is not encrypted goes on only when `plainAllowed` (a loopback host):
// to any other host, a server that offers no STARTTLS gets neither the credentials nor the mail.

/** The part of a cloudflare:sockets Socket this client uses. */
export interface MailSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<unknown>;
  close(): Promise<void>;
  startTls(): MailSocket;
}

export type Connect = (
  address: { hostname: string; port: number },
  options: { secureTransport: "off" | "on" | "starttls"; allowHalfOpen: boolean },
) => MailSocket;

export interface SmtpOptions {
  host: string;
  port: number;
  /** `implicit`: TLS from the first byte (port 465); `starttls`: upgraded after the greeting. */
  tls: "implicit" | "starttls";
  /** May the session go on unencrypted when the server offers no STARTTLS (loopback only). */
  plainAllowed: boolean;
  credentials?: { username: string; password: string };
  /** For each step of the dialogue: connecting, and each reply. */
  timeoutMs: number;
  /** The name this client gives in EHLO. */
  clientName: string;
}

export interface Envelope {
  from: string;
  to: string[];
  /** The message (headers, blank line, body), lines ending in CRLF; dot-stuffed here. */
  data: string;
}

/** A failed send; `message` says at which step and what the server answered. */
export class SmtpError extends Error {}

/** The longest reply read: servers answer in a few lines. */
const MAX_REPLY_CHARS = 64 * 1024;

interface Reply {
  code: number;
  lines: string[];
}

export const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || /^127(\.\d{1,3}){3}$/.test(host) || host === "::1" || host === "[::1]";

export async function sendMail(connect: Connect, opts: SmtpOptions, envelope: Envelope): Promise<void> {
  const hostname = opts.host.replace(/^\[(.*)\]$/, "$1");
  const socket = connect(
    { hostname, port: opts.port },
    { secureTransport: opts.tls === "implicit" ? "on" : "starttls", allowHalfOpen: false },
  );
  const session = new Session(socket, opts.timeoutMs);
  try {
    await session.within("connecting", socket.opened);
    await session.expect("the greeting", 220);
    let caps = await session.ehlo(opts.clientName);
    let encrypted = opts.tls === "implicit";
    if (!encrypted && caps.has("STARTTLS")) {
      await session.command("STARTTLS", "STARTTLS", 220);
      await session.upgrade();
      encrypted = true;
      // What the server offered before TLS is forgotten (RFC 3207, 4.2).
      caps = await session.ehlo(opts.clientName);
    }
    if (!encrypted && !opts.plainAllowed) {
      throw new SmtpError(
        `${opts.host} offers no STARTTLS: mail goes unencrypted only to a loopback host, so nothing was sent`,
      );
    }
    if (opts.credentials) await session.auth(caps, opts.credentials);
    await session.command("MAIL FROM", `MAIL FROM:<${envelope.from}>`, 250);
    for (const to of envelope.to) await session.command("RCPT TO", `RCPT TO:<${to}>`, 250, 251);
    await session.command("DATA", "DATA", 354);
    await session.write(dotStuffed(envelope.data));
    await session.expect("the end of the message", 250);
    // The message is accepted; a QUIT that goes wrong changes nothing.
    await session.command("QUIT", "QUIT", 221).catch(() => undefined);
  } finally {
    await session.close();
  }
}

/** CRLF line ends, a dot doubled at the start of a line, and the end-of-data line (RFC 5321, 4.5.2). */
export function dotStuffed(data: string): string {
  const lines = data.replace(/\r?\n$/, "").split(/\r?\n/);
  return `${lines.map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n")}\r\n.\r\n`;
}

class Session {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private decoder = new TextDecoder();
  private buffer = "";

  constructor(
    private socket: MailSocket,
    private readonly timeoutMs: number,
  ) {
    this.reader = socket.readable.getReader();
    this.writer = socket.writable.getWriter();
  }

  /** Waits for `p`, failing after the timeout with what was being waited for. */
  async within<T>(what: string, p: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SmtpError(`no answer within ${this.timeoutMs} ms (${what})`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async write(text: string): Promise<void> {
    await this.within("writing", this.writer.write(new TextEncoder().encode(text)));
  }

  /** Sends one command line and checks the reply's code; `shown` names it in errors (never a secret). */
  async command(shown: string, line: string, ...codes: number[]): Promise<Reply> {
    await this.write(`${line}\r\n`);
    return this.expect(shown, ...codes);
  }

  async expect(what: string, ...codes: number[]): Promise<Reply> {
    const reply = await this.within(what, this.readReply());
    if (!codes.includes(reply.code)) {
      throw new SmtpError(`${what}: the server answered ${reply.code} ${reply.lines.join(" ").slice(0, 500)}`);
    }
    return reply;
  }

  /** EHLO, falling back to HELO for an old server; the extensions the server offers, upper case. */
  async ehlo(name: string): Promise<Map<string, string>> {
    await this.write(`EHLO ${name}\r\n`);
    const reply = await this.within("EHLO", this.readReply());
    if (reply.code !== 250) {
      await this.command("HELO", `HELO ${name}`, 250);
      return new Map();
    }
    // The first line greets; each other line is an extension and its parameters.
    return new Map(
      reply.lines.slice(1).map((l) => {
        const [word = "", ...params] = l.trim().split(/\s+/);
        return [word.toUpperCase(), params.join(" ").toUpperCase()] as const;
      }),
    );
  }

  async auth(caps: Map<string, string>, { username, password }: { username: string; password: string }) {
    const mechanisms = (caps.get("AUTH") ?? "").split(" ");
    if (mechanisms.includes("PLAIN")) {
      await this.command("AUTH PLAIN", `AUTH PLAIN ${base64(`\0${username}\0${password}`)}`, 235);
    } else if (mechanisms.includes("LOGIN")) {
      await this.command("AUTH LOGIN", "AUTH LOGIN", 334);
      await this.command("AUTH LOGIN (user name)", base64(username), 334);
      await this.command("AUTH LOGIN (password)", base64(password), 235);
    } else {
      throw new SmtpError("the server offers neither AUTH PLAIN nor AUTH LOGIN, and credentials were given");
    }
  }

  /** Swaps the socket for its TLS form; the plain one's reader and writer are let go first. */
  async upgrade(): Promise<void> {
    if (this.buffer) throw new SmtpError("the server sent more after its STARTTLS reply");
    this.reader.releaseLock();
    this.writer.releaseLock();
    this.socket = this.socket.startTls();
    this.reader = this.socket.readable.getReader();
    this.writer = this.socket.writable.getWriter();
    // A certificate the runtime does not trust fails here.
    await this.within("the TLS handshake", this.socket.opened).catch((err: unknown) => {
      throw new SmtpError(`STARTTLS: the TLS handshake failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  async close(): Promise<void> {
    // The socket may already be closed by the server or broken: nothing is left to do then.
    await this.socket.close().catch(() => undefined);
  }

  /** One reply: `250-...` lines, then `250 ...` (or a bare `250`). */
  private async readReply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine();
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!m) throw new SmtpError(`the server sent a line that is not SMTP: ${line.slice(0, 200)}`);
      lines.push(m[3] ?? "");
      if (m[2] !== "-") return { code: Number(m[1]), lines };
      if (lines.length > 1000) throw new SmtpError("the server's reply has too many lines");
    }
  }

  private async readLine(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf("\n");
      if (end !== -1) {
        const line = this.buffer.slice(0, end).replace(/\r$/, "");
        this.buffer = this.buffer.slice(end + 1);
        return line;
      }
      if (this.buffer.length > MAX_REPLY_CHARS) throw new SmtpError("the server's reply is too long");
      const { value, done } = await this.reader.read();
      if (done) throw new SmtpError("the server closed the connection");
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
